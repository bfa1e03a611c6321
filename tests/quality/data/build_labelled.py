"""Builds labelled_chunks.jsonl: chunk texts labelled ``good`` or ``garbage``, with their kind.

Every text here was written for this set; variants are made programmatically
(sentences recombined, names and numbers changed, garbage generated from
templates), deterministic for a fixed seed. Run ``python build_labelled.py``
in this folder to rebuild the file; the tests read the committed file.

Fields per line: ``text``, ``label`` (good | garbage), ``kind`` and ``ocr``
(true when the text came out of OCR, which the scorer checks for garbling).
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

SEED = 12
OUT = Path(__file__).with_name("labelled_chunks.jsonl")

# --------------------------------------------------------------------------- good: prose
PROSE = [
    "The river rises in the northern hills and reaches the sea after some two hundred kilometres.",
    "Farmers along its banks grow wheat, barley and sugar beet on the flat alluvial soil.",
    "In spring the snowmelt can raise the water level by more than three metres in a week.",
    "The town council built a series of levees after the flood of 1953 destroyed the old bridge.",
    "Most of the population now lives in the two cities at the mouth of the river.",
    "A randomized trial of 412 adults compared the new inhaler with the standard treatment.",
    "Patients in the treatment group reported fewer night-time symptoms after eight weeks.",
    "The difference in lung function was small but statistically significant (p = 0.03).",
    "Adverse events were mild and occurred at similar rates in both groups.",
    "Larger studies are needed to confirm whether the benefit persists beyond six months.",
    "A hash table stores keys in buckets chosen by a hash function.",
    "When two keys land in the same bucket, the table resolves the collision by chaining.",
    "The average cost of a lookup stays constant as long as the load factor is kept low.",
    "Resizing the table doubles the number of buckets and rehashes every stored key.",
    "Open addressing keeps all entries in one array, which is friendlier to the processor cache.",
    "The committee met on Tuesday to discuss the library's budget for the coming year.",
    "Spending on journals has risen faster than inflation for most of the last decade.",
    "Several members argued that the money would be better spent on digital subscriptions.",
    "A final decision was postponed until the survey of readers has been analysed.",
    "The old reading room will stay open during the renovation of the east wing.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "Chlorophyll absorbs mostly blue and red light and reflects green.",
    "The light reactions take place in the thylakoid membranes of the chloroplast.",
    "Carbon dioxide is fixed in the Calvin cycle, which does not need light directly.",
    "Plants in hot, dry climates often use the C4 or CAM pathway to save water.",
    "To replace the filter, switch the unit off and unplug it from the mains.",
    "Open the front cover by pressing the two catches on either side.",
    "Slide the old filter out and insert the new one with the arrow pointing up.",
    "Close the cover until it clicks, then reset the filter indicator.",
    "The manufacturer recommends replacing the filter every six months.",
    "Early computers were programmed by setting switches and plugging cables.",
    "Assembly languages gave each machine instruction a short mnemonic name.",
    "FORTRAN, released in 1957, let scientists write formulas much as they wrote them on paper.",
    "Compilers soon produced code almost as fast as code written by hand.",
    "Structured programming replaced jumps with loops and conditionals.",
    "The survey asked 1,200 households how often they used public transport.",
    "About 38 % of respondents took a bus at least once a week.",
    "Use was highest among students and people over seventy.",
    "Respondents in rural areas cited infrequent service as the main obstacle.",
    "The report recommends a trial of demand-responsive minibuses in two districts.",
    "Mutations in the BRCA1 gene raise the lifetime risk of breast and ovarian cancer.",
    "The protein helps repair double-strand breaks in DNA by homologous recombination.",
    "Cells lacking BRCA1 rely on error-prone repair pathways instead.",
    "PARP inhibitors exploit this weakness and are approved for several cancers.",
    "Resistance can arise when a second mutation restores the reading frame of the gene.",
    "The orchestra opened the season with a programme of late Romantic works.",
    "The conductor took the slow movement at an unusually broad tempo.",
    "Critics praised the brass section but found the strings a little thin.",
    "The hall's new acoustic panels were used for the first time.",
    "Tickets for the remaining concerts are available from the box office.",
    "Was the decision fair? Many residents thought not, and they said so at the meeting.",
    "She had not expected the letter to arrive so soon; it was dated only two days earlier.",
    "Remember: the deadline for applications is the last Friday in March.",
    "Each sample was centrifuged at 4,000 g for 10 min and the supernatant discarded.",
    "Magnetic storms can disturb radio communication at high latitudes for several days.",
    "The ionosphere reflects short waves back to the ground, which allows long-distance links.",
    "Measurements at 14 stations showed that the effect was strongest near local midnight.",
]

HEADINGS = [
    "Introduction",
    "Methods",
    "Results",
    "Discussion",
    "Background",
    "Installation",
    "Usage",
    "Summary",
    "Conclusions",
    "Design notes",
    "Known limitations",
    "History",
]

# --------------------------------------------------------------------------- good: titles
TITLES = [
    "Stack Frames",
    "Merging Sorted Tapes",
    "Interpolated Table Lookup",
    "COBOL",
    "FORTRAN",
    "Matrix Inversion",
    "A Revised Report on Block Structure",
    "Recursive Descent for Arithmetic Expressions",
    "Shellsort",
    "A Fast Parser for Operator Grammars",
    "MATINV (Algorithm 9)",
    "POLYROOT (Algorithm 4)",
    "Sleep spindles",
    "Insomnia",
    "noise figure",
    "ferrite memory core",
    "klystron amplifier",
    "the magnetron",
    "etched wiring",
    "EARLY DAYS.",
    "STAFF TRAINING.",
    "BRANCH LIBRARIES.",
    "Garbage Collection",
    "Hash Coding",
    "Quicksort",
    "A Note on Shortest Paths in Graphs",
    "Ionospheric absorption at 3 Mc/s",
    "Random Number Generator",
    "Symbol Manipulation",
    "Interrupts",
    "Pseudofiles",
    "Paging",
    "Deadlock",
    "Virtual memory",
    "B-trees",
    "Computer-aided instruction",
    "Reading habits of teenagers",
    "Library automation",
    "Online catalogues",
    "Citation indexing",
    "Public libraries and unemployment",
    "Sparse matrices",
    "Eigenvalues of tridiagonal matrices",
    "Gamma function",
    "Bessel functions of integer order",
    "Numerical integration",
    "The LISP 2 project",
]

# --------------------------------------------------------------------------- good: code
CODE = [
    """>>> from fractions import Fraction
>>> Fraction(1, 3) + Fraction(1, 6)
Fraction(1, 2)
>>> Fraction(3, 4) * 2
Fraction(3, 2)
>>> Fraction('0.25')
Fraction(1, 4)""",
    """>>> import math
>>> math.isclose(0.1 + 0.2, 0.3)
True
>>> math.isclose(1.0, 1.001)
False
>>> math.isclose(1.0, 1.001, rel_tol=1e-2)
True
>>> math.isclose(0.0, 1e-10)
False
>>> math.isclose(0.0, 1e-10, abs_tol=1e-9)
True""",
    """parser = argparse.ArgumentParser(description="Copy files between folders.")
parser.add_argument("--src", required=True, help="folder to copy from")
parser.add_argument("--dst", required=True, help="folder to copy to")
parser.add_argument("--dry-run", action="store_true", help="only print what would be copied")
parser.add_argument("--verbose", action="store_true", help="print every file")
parser.add_argument("--jobs", type=int, default=4, help="parallel copies")
args = parser.parse_args()""",
    '''class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Point(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Point(self.x - other.x, self.y - other.y)

    def __repr__(self):
        return f"Point({self.x}, {self.y})"''',
    """def test_empty():
    assert parse("") == []


def test_one_item():
    assert parse("a") == ["a"]


def test_two_items():
    assert parse("a,b") == ["a", "b"]


def test_spaces():
    assert parse(" a , b ") == ["a", "b"]""",
    """>>> d = {}
>>> d["a"] = 1
>>> d["b"] = 2
>>> d["c"] = 3
>>> list(d)
['a', 'b', 'c']
>>> d.pop("b")
2
>>> list(d)
['a', 'c']""",
    """for i in range(3):
    print(i)
...
0
1
2""",
    """SELECT c.name, COUNT(o.id) AS orders, SUM(o.total) AS revenue
FROM customers c
JOIN orders o ON o.customer_id = c.id
WHERE o.created_at >= DATE '2024-01-01'
GROUP BY c.name
HAVING COUNT(o.id) > 5
ORDER BY revenue DESC
LIMIT 20;""",
    """#include <stdio.h>

int main(void) {
    int fd, n;
    char buf[4096];
    while ((n = read(0, buf, sizeof buf)) > 0) {
        if (write(1, buf, n) != n) {
            perror("write");
            return 1;
        }
    }
    return 0;
}""",
    """$ python -m venv .venv
$ source .venv/bin/activate
$ pip install -e ".[dev]"
$ pytest -q
........................................ [100%]
40 passed in 1.32s""",
    """const express = require("express");
const app = express();

app.get("/health", (req, res) => res.json({ ok: true }));
app.get("/items", async (req, res) => res.json(await db.items()));
app.get("/items/:id", async (req, res) => res.json(await db.item(req.params.id)));

app.listen(3000, () => console.log("listening on 3000"));""",
    """    Parameters
    ----------
    x : array_like
        Input values.
    axis : int, optional
        Axis along which to sum. Default is None.
    dtype : dtype, optional
        Type of the returned array.

    Returns
    -------
    ndarray
        The sums along the axis.""",
    """match command.split():
    case ["go", direction]:
        move(direction)
    case ["take", item]:
        take(item)
    case ["drop", item]:
        drop(item)
    case ["quit"]:
        quit()
    case _:
        print("unknown command")""",
    """x = np.zeros((3, 3))
x[0, 0] = 1
x[1, 1] = 1
x[2, 2] = 1
assert (x == np.eye(3)).all()""",
    """    try:
        value = int(text)
    except ValueError:
        value = None
    try:
        other = int(more)
    except ValueError:
        other = None""",
]


# --------------------------------------------------------------------------- good: tables
def tables(rng: random.Random) -> list[str]:
    out = []
    for _ in range(18):
        years = range(rng.randint(2008, 2016), rng.randint(2019, 2024))
        cols = rng.choice(
            [
                ("Year", "Cases", "Deaths", "CFR (%)"),
                ("Year", "Revenue", "Costs", "Margin"),
                ("Year", "Visitors", "Loans", "Members"),
            ]
        )
        style = rng.choice(["md", "csv", "tsv", "plain"])
        rows = []
        for y in years:
            a = rng.randint(800, 40000)
            b = rng.randint(10, a // 10)
            count = f"{a:,}" if style != "csv" else str(a)
            rows.append((str(y), count, str(b), f"{100 * b / a:.1f}"))
        if style == "md":
            lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(r) + " |" for r in rows]
        elif style == "csv":
            lines = [",".join(cols)] + [",".join(r) for r in rows]
        elif style == "tsv":
            lines = ["\t".join(cols)] + ["\t".join(r) for r in rows]
        else:
            lines = ["  ".join(f"{c:>10}" for c in cols)]
            lines += ["  ".join(f"{v:>10}" for v in r) for r in rows]
        if rng.random() < 0.5:
            lines.insert(0, f"Table {rng.randint(1, 9)}. {cols[1]} by year.")
        out.append("\n".join(lines))
    for _ in range(8):
        names = rng.sample(["Oslo", "Lyon", "Porto", "Graz", "Turku", "Gent", "Brno", "Split"], 5)
        lines = ["| City | Population | Area (km2) | Founded |", "|---|---:|---:|---:|"]
        for n in names:
            lines.append(
                f"| {n} | {rng.randint(90, 900) * 1000:,} | {rng.randint(40, 500)} | "
                f"{rng.randint(800, 1400)} |"
            )
        out.append("\n".join(lines))
    out.append(
        "Parameter | Value | Unit\nSampling rate | 48 | kHz\nBit depth | 24 | bit\n"
        "Channels | 2 | -\nLatency | 5.3 | ms\nNoise floor | -112 | dBFS"
    )
    out.append(
        "id,name,price,stock\n1001,Blue mug,8.50,140\n1002,Red mug,8.50,95\n"
        "1003,Teapot,24.00,31\n1004,Tea towel,6.25,210\n1005,Coaster set,12.00,64"
    )
    return out


# --------------------------------------------------------------------------- good: lists
LISTS = [
    "Ingredients:\n- 200 g flour\n- 2 eggs\n- 300 ml milk\n- a pinch of salt\n- butter for the pan",
    "Before you start:\n1. Back up your data.\n2. Close all other programs.\n"
    "3. Connect the charger.\n4. Check that you have at least 2 GB free.",
    "Supported formats\n* PDF\n* Word (.docx)\n* HTML\n* Markdown\n* Plain text\n"
    "* Images (PNG, JPEG)",
    "Packing list:\n- passport\n- tickets\n- charger\n- adapter\n- sunscreen\n- rain jacket",
    "Changes in 2.4.0\n- Faster startup on large folders\n- Fixed a crash when a file was renamed\n"
    "- The --quiet flag now also hides warnings\n- Dropped support for Python 3.8",
    "Committee members: J. Smith (chair), A. Okafor, L. Chen, M. Rossi, P. Novak.",
    "Symptoms include:\n- fever\n- dry cough\n- tiredness\n- loss of taste or smell",
    "Opening hours\nMonday to Friday: 9:00-18:00\nSaturday: 10:00-16:00\nSunday: closed",
    "- [x] write the parser\n- [x] add tests\n- [ ] update the docs\n- [ ] release 1.2",
    "Keywords: information retrieval; relevance feedback; query expansion; evaluation",
]

# --------------------------------------------------------------------------- good: references
AUTHORS = [
    "Smith J",
    "Chen L",
    "Okafor A",
    "Rossi M",
    "Novak P",
    "Garcia R",
    "Kim S",
    "Müller K",
    "Dubois C",
    "Tanaka H",
    "Ivanova E",
    "Brown T",
]
JOURNALS = [
    "J Biol Chem",
    "Nature",
    "Proc Natl Acad Sci USA",
    "Commun ACM",
    "J Doc",
    "Phys Rev Lett",
    "Lancet",
    "N Engl J Med",
    "Inf Process Manag",
    "Radio Sci",
]
TOPICS = [
    "Regulation of T cell homing to the lung",
    "A fast algorithm for sparse matrix products",
    "Reading habits of adolescents",
    "Ionospheric absorption at high latitudes",
    "Long-term outcomes of inhaled corticosteroids",
    "Relevance feedback in retrieval",
    "Structure of the BRCA1 C-terminal domain",
    "Hashing with linear probing revisited",
]


def references(rng: random.Random) -> list[str]:
    out = []
    for _ in range(25):
        lines = []
        for k in range(rng.randint(3, 7)):
            au = ", ".join(rng.sample(AUTHORS, rng.randint(1, 4)))
            y = rng.randint(1965, 2023)
            v, p = rng.randint(1, 300), rng.randint(1, 2000)
            style = rng.random()
            if style < 0.5:
                lines.append(
                    f"{k + 1}. {au}. {rng.choice(TOPICS)}. {rng.choice(JOURNALS)}. "
                    f"{y};{v}:{p}-{p + rng.randint(3, 15)}."
                )
            else:
                lines.append(
                    f"[{k + 1}] {au} ({y}) {rng.choice(TOPICS)}. {rng.choice(JOURNALS)} "
                    f"{v}({rng.randint(1, 12)}), pp. {p}-{p + rng.randint(3, 15)}. "
                    f"doi:10.{rng.randint(1000, 9999)}/{rng.randint(100000, 999999)}"
                )
        out.append("References\n" + "\n".join(lines) if rng.random() < 0.4 else "\n".join(lines))
    return out


# --------------------------------------------------------------------------- good: formulas
FORMULAS = [
    "The variance is $\\sigma^2 = \\frac{1}{n}\\sum_{i=1}^{n} (x_i - \\mu)^2$, "
    "where $\\mu$ is the mean.",
    "E = mc^2",
    "f(x) = a x^2 + b x + c, so x = (-b ± sqrt(b^2 - 4ac)) / 2a.",
    "\\begin{align}\n\\nabla \\cdot E &= \\rho / \\epsilon_0 \\\\\n\\nabla \\cdot B &= 0 \\\\\n"
    "\\nabla \\times E &= -\\partial B / \\partial t\n\\end{align}",
    "P(A|B) = P(B|A) P(A) / P(B)",
    "∫₀^∞ e^(−x²) dx = √π / 2",
    "For 0 < x < 1: ln(1 + x) = x − x²/2 + x³/3 − x⁴/4 + …",
    "H(X) = −Σ p(x) log₂ p(x)",
    "sin²θ + cos²θ = 1; tan θ = sin θ / cos θ",
    "y[n] = 0.5 x[n] + 0.3 x[n-1] + 0.2 x[n-2]",
    "O(n log n) comparisons; T(n) = 2T(n/2) + O(n)",
    "∀ε > 0 ∃δ > 0: |x − a| < δ ⇒ |f(x) − f(a)| < ε",
    "a = 3.2 ± 0.1 m/s², F = ma = 12.8 N",
    "Δ = b² − 4ac = 25 − 24 = 1",
    "\\[ \\hat{\\beta} = (X^T X)^{-1} X^T y \\]",
    "x(t) = A cos(ωt + φ), ω = 2πf, f = 50 Hz",
]

# --------------------------------------------------------------------------- good: non-English
FOREIGN = [
    "Der Fluss entspringt in den nördlichen Hügeln und mündet nach etwa zweihundert "
    "Kilometern ins Meer. "
    "Die Bauern an seinen Ufern bauen Weizen, Gerste und Zuckerrüben an.",
    "Die Stadtverwaltung ließ nach dem Hochwasser von 1953 neue Deiche errichten. "
    "Angstschweiß und Schlafstörungen sind häufige Begleiterscheinungen.",
    "La rivière prend sa source dans les collines du nord et rejoint la mer après "
    "environ deux cents kilomètres. Les agriculteurs y cultivent le blé, l'orge "
    "et la betterave à sucre.",
    "Le comité s'est réuni mardi pour discuter du budget de la bibliothèque pour l'année à venir. "
    "Une décision finale a été reportée.",
    "El río nace en las colinas del norte y llega al mar tras unos doscientos kilómetros. "
    "¿Cuántas personas viven en la desembocadura? Más de un millón.",
    "O rio nasce nas colinas do norte e chega ao mar depois de cerca de duzentos quilómetros. "
    "A população concentra-se nas duas cidades junto à foz.",
    "Река берёт начало в северных холмах и впадает в море примерно через двести километров. "
    "Фермеры на её берегах выращивают пшеницу, ячмень и сахарную свёклу.",
    "Η βιβλιοθήκη θα παραμείνει ανοιχτή κατά τη διάρκεια της ανακαίνισης της ανατολικής πτέρυγας.",
    "Strč prst skrz krk. Čtvrthrst zmrzlin. Vlk zdrhl z mlýna.",
    "Rzeka wypływa z północnych wzgórz i po około dwustu kilometrach uchodzi do morza. "
    "Źdźbło trawy, chrząszcz brzmi w trzcinie.",
    "Joki alkaa pohjoisilta kukkuloilta ja laskee mereen noin kahdensadan kilometrin jälkeen.",
    "Nehir kuzey tepelerinden doğar ve yaklaşık iki yüz kilometre sonra denize ulaşır.",
    "Mto huanzia katika milima ya kaskazini na kufika baharini baada ya kilomita mia mbili hivi.",
    "נהר זה נובע בגבעות הצפוניות ונשפך לים לאחר כמאתיים קילומטרים.",
    "يبدأ النهر في التلال الشمالية ويصل إلى البحر بعد نحو مئتي كيلومتر.",
    "नदी उत्तरी पहाड़ियों से निकलती है और लगभग दो सौ किलोमीटर बाद समुद्र में मिलती है।",
]

CJK = [
    "这条河发源于北部丘陵，流经约二百公里后注入大海。沿岸的农民种植小麦、大麦和甜菜。",
    "今天天气很好，我们去公园散步吧。",
    "上海是中国最大的经济中心城市。",
    "哈希表通过哈希函数把键映射到桶中。当两个键落在同一个桶时，需要通过链表或探测来解决冲突。",
    "この川は北部の丘陵に源を発し、約二百キロ流れて海に注ぐ。",
    "図書館は東棟の改装中も開館しています。",
    "光合成は光エネルギーを化学エネルギーに変換し、ブドウ糖として蓄える。",
    "이 강은 북쪽 언덕에서 발원하여 약 이백 킬로미터를 흐른 뒤 바다로 들어간다.",
    "도서관은 동관 공사 기간에도 문을 엽니다.",
    "研究结果表明，新型吸入器在八周后显著减少了夜间症状（p = 0.03）。",
    "机器学习模型在测试集上的准确率为92.4%，比基线高出3.1个百分点。",
    "東京都の人口は約1400万人で、日本の総人口の約11%を占める。",
]

# --------------------------------------------------------------------------- garbage
COMPANIES = [
    "Example Inc.",
    "Acme Corporation",
    "Northwind Traders",
    "Contoso Ltd.",
    "Globex GmbH",
    "Initech LLC",
    "Umbrella Media Group",
    "Stark Retail plc",
]
COOKIE = [
    "We use cookies to improve your experience on our website. By continuing to browse, you agree "
    "to our use of cookies.",
    "This site uses cookies. Accept all cookies or manage your preferences.",
    "We and our partners use cookies and similar technologies to personalise content and ads. "
    "Click 'Accept' to consent or 'Manage settings' to choose.",
    "Cookie settings | Accept all | Reject all | Privacy policy",
    "Our website uses cookies for analytics and advertising. See our cookie policy for details.",
    'By clicking "Accept All Cookies", you agree to the storing of cookies on your device.',
]
NAV = [
    "Home",
    "About",
    "About us",
    "Contact",
    "Blog",
    "News",
    "Products",
    "Services",
    "Shop",
    "Cart",
    "Log in",
    "Sign in",
    "Register",
    "My account",
    "Search",
    "Help",
    "FAQ",
    "Careers",
    "Press",
    "Sitemap",
    "Privacy",
    "Terms",
    "Menu",
    "Support",
    "Pricing",
    "Downloads",
    "Events",
    "Team",
    "Partners",
    "Investors",
    "Subscribe",
    "Newsletter",
    "Login",
]
FOOTER = [
    "© {y} {c} All rights reserved.",
    "Copyright © {y} {c}. All rights reserved.",
    "Copyright (c) {y0}-{y} {c}",
    "Privacy Policy | Terms of Use | Cookie Policy | Accessibility",
    "Terms and Conditions · Privacy Policy · Imprint",
    "Follow us on Facebook, Twitter and LinkedIn",
    "Share this on Facebook | Share on Twitter | Share by email",
    "Sign up for our newsletter to get the latest news.",
    "Back to top",
    "Skip to main content",
    "Powered by WordPress",
    "Page {p} of {q}",
]
SPAM = [
    "BUY NOW!!! Limited offer, click here!",
    "Best cheap watches online free shipping",
    "Earn $500 a day from home, no experience needed",
    "casino bonus free spins casino bonus free spins",
    "Subscribe to our channel for more videos",
    "Hot singles in your area",
    "lorem ipsum dolor sit amet",
]
KEY_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]


def mash_word(rng: random.Random) -> str:
    row = rng.choice(KEY_ROWS[:3] if rng.random() < 0.85 else KEY_ROWS)
    i = rng.randrange(len(row))
    out = []
    for _ in range(rng.randint(3, 9)):
        out.append(row[i])
        i = max(0, min(len(row) - 1, i + rng.choice([-2, -1, 1, 1, 2])))
        if rng.random() < 0.15:
            row = rng.choice(KEY_ROWS[:3])
            i = min(i, len(row) - 1)
    return "".join(out)


def ocr_noise(text: str, rng: random.Random, level: float) -> str:
    swaps = {
        "h": "li",
        "m": "rn",
        "e": "c",
        "a": "o",
        "l": "1",
        "i": "!",
        "o": "0",
        "s": "5",
        "t": "f",
        "n": "ii",
        "d": "cl",
        "u": "v",
    }
    junk = "~'`^.,;:|\\/_-•*°¬¦"
    out = []
    for ch in text:
        r = rng.random()
        if r < level * 0.45 and ch.lower() in swaps:
            out.append(swaps[ch.lower()])
        elif r < level * 0.75:
            out.append(rng.choice(junk))
        elif r < level * 0.9:
            continue
        elif r < level:
            out.append(ch + rng.choice(junk))
        else:
            out.append(ch)
    return "".join(out)


def mojibake(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


def hexdump(data: bytes, offset: int) -> str:
    lines = []
    for i in range(0, len(data), 16):
        row = data[i : i + 16]
        hexes = " ".join(row[j : j + 2].hex() for j in range(0, len(row), 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset + i:08x}: {hexes:<39}  {text}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- assemble
def build() -> list[dict[str, object]]:
    rng = random.Random(SEED)
    items: list[dict[str, object]] = []

    def add(text: str, label: str, kind: str, ocr: bool = False) -> None:
        items.append({"text": text, "label": label, "kind": kind, "ocr": ocr})

    # good ------------------------------------------------------------------
    for _ in range(70):
        k = rng.randint(1, 8)
        start = rng.randrange(len(PROSE))
        sents = [PROSE[(start + j) % len(PROSE)] for j in range(k)]
        if rng.random() < 0.3:
            sents = rng.sample(PROSE, k)
        text = " ".join(sents)
        if rng.random() < 0.25:
            text = f"{rng.choice(HEADINGS)}\n\n{text}"
        if rng.random() < 0.15:
            text = text.upper()
        add(text, "good", "prose")
    for t in TITLES:
        add(t, "good", "title")
    for c in CODE:
        add(c, "good", "code")
        add(c.replace("    ", "\t"), "good", "code")
    for t in tables(rng):
        add(t, "good", "table")
    for t in LISTS:
        add(t, "good", "list")
    for t in references(rng):
        add(t, "good", "references")
    for t in FORMULAS:
        add(t, "good", "formula")
    for t in FOREIGN:
        add(t, "good", "non_english")
    for t in CJK:
        add(t, "good", "cjk")
    # clean OCR output: real words, a few typical slips
    for _ in range(15):
        text = " ".join(rng.sample(PROSE, rng.randint(2, 5)))
        add(ocr_noise(text, rng, 0.01), "good", "ocr_clean", ocr=True)
    # prose that mentions cookies, copyright or menus without being boilerplate
    add(
        "The new copyright law changed how a university library may photocopy journal "
        "articles for its readers. The librarians' association wrote a short guide on fair "
        "dealing and sent it to every member.",
        "good",
        "prose",
    )
    add(
        "In summary, the engineered cells grew more slowly in culture, and none of them formed "
        "tumours in the twelve weeks of follow-up; the effect held across three independent "
        "lines. © 2019 The Authors. Published by Example Press.",
        "good",
        "prose",
    )
    add(
        "Bake the cookies for twelve minutes, until the edges are golden. Let them cool on a rack "
        "before you accept any compliments; they firm up as they cool.",
        "good",
        "prose",
    )
    add(
        "HTTP cookies let a server keep state between requests. Browsers send them back with "
        "every request to the same site, which is why consent banners ask before setting "
        "tracking cookies.",
        "good",
        "prose",
    )
    add(
        "The home page links to the about page, the contact form and the product list. Keep the "
        "navigation menu short: five to seven items are easier to scan than fifteen.",
        "good",
        "prose",
    )

    # garbage ----------------------------------------------------------------
    for _ in range(30):
        parts = rng.sample(COOKIE, rng.randint(1, 3))
        if rng.random() < 0.5:
            parts.append(rng.choice(["Accept", "Accept all", "OK", "Got it", "Reject"]))
        add("\n".join(parts), "garbage", "cookie_banner")
    for _ in range(30):
        items_ = rng.sample(NAV, rng.randint(5, 12))
        sep = rng.choice(["\n", " | ", " · ", "  ", " > ", "\n• "])
        add(sep.join(items_), "garbage", "nav_menu")
    for _ in range(30):
        y = rng.randint(1998, 2025)
        lines = [
            f.format(
                y=y, y0=y - rng.randint(1, 20), c=rng.choice(COMPANIES), p=1, q=rng.randint(2, 9)
            )
            for f in rng.sample(FOOTER, rng.randint(2, 5))
        ]
        add("\n".join(lines), "garbage", "footer")
    for _ in range(30):
        text = " ".join(rng.sample(PROSE, rng.randint(2, 4)))
        noisy = ocr_noise(text, rng, rng.uniform(0.35, 0.6))
        add(noisy, "garbage", "ocr_noise", ocr=rng.random() < 0.5)
    for _ in range(25):
        src = rng.choice(
            FOREIGN[:6]
            + CJK[:6]
            + [
                "“Smart quotes” — and an em dash… café, naïve, résumé, Zürich, São Paulo.",
            ]
        )
        add(mojibake(src), "garbage", "mojibake")
    for _ in range(20):
        words = [mash_word(rng) for _ in range(rng.randint(6, 25))]
        sep = rng.choice([" ", " ", "", ";", "\n"])
        add(sep.join(words), "garbage", "keyboard_mash")
    for _ in range(25):
        line = rng.choice(SPAM + NAV[:3] + PROSE[:3])
        n = rng.randint(4, 20)
        add(("\n" if rng.random() < 0.6 else " ").join([line] * n), "garbage", "spam_repeat")
    for _ in range(15):
        data = rng.randbytes(rng.randint(60, 600))
        b64 = base64.b64encode(data).decode()
        add("\n".join(b64[i : i + 76] for i in range(0, len(b64), 76)), "garbage", "base64")
    for _ in range(15):
        data = rng.randbytes(rng.randint(48, 256))
        if rng.random() < 0.5:
            add(hexdump(data, rng.randrange(0, 1 << 20, 16)), "garbage", "hex_dump")
        else:
            raw = data.hex(" ") if rng.random() < 0.5 else data.hex()
            add("\n".join(raw[i : i + 64] for i in range(0, len(raw), 64)), "garbage", "hex_dump")
    for _ in range(10):
        add(
            " ".join(
                rng.choice(["++++", "////", "====", "####", "----", "****", "~~~~", "|||"])
                if rng.random() < 0.5
                else str(rng.randint(0, 99999))
                for _ in range(rng.randint(8, 30))
            ),
            "garbage",
            "symbols",
        )
    return items


def main() -> None:
    items = build()
    with OUT.open("w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    good = sum(1 for it in items if it["label"] == "good")
    print(f"{len(items)} items ({good} good, {len(items) - good} garbage) -> {OUT.name}")


if __name__ == "__main__":
    main()
