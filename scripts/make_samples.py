"""Build the binary documents of the sample set in ``samples/``.

The sample set is a small field guide to home composting and soil health,
spread over every format ragsilo reads, for the README demo and for tests:

    composting-basics.md        Markdown with YAML front matter and nested headings
    soil-food-web.html          a web page with navigation, cookie banner, sidebar and footer
    compost-troubleshooting.pdf a four-page PDF, one problem family per page  (built here)
    composting-methods.docx     Word headings, lists and a comparison table   (built here)
    compost-materials.csv       carbon-to-nitrogen ratios of common materials, one row each
    soil-nutrients.json         plant nutrients as records inside a top-level object
    compost-faq.txt             plain-text questions and answers

The text files are written by hand. This script writes the PDF (with
reportlab) and the Word file (with python-docx), byte for byte the same on
every run, so the committed files only change when their content does::

    pip install reportlab python-docx
    python scripts/make_samples.py            # writes samples/*.pdf and samples/*.docx
    python scripts/make_samples.py --check    # exits 1 if the committed files are stale
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
AUTHOR = "The Backyard Soil Notebook"
# A fixed moment for every embedded date, so that rebuilding changes nothing.
FIXED_TIME = dt.datetime(2024, 4, 12, 9, 0, 0, tzinfo=dt.timezone.utc)

PDF_TITLE = "Compost Troubleshooting Guide"
PDF_INTRO = (
    "Almost every compost problem comes down to one of four things: the balance of "
    "greens and browns, water, air, or the size of the pile. The smell, temperature "
    "and texture of a pile tell you which one is off. This guide lists the common "
    "symptoms, what causes them and how to put them right."
)
# One list per page: (heading, paragraphs).
PDF_PAGES: list[list[tuple[str, list[str]]]] = [
    [
        (
            "The pile smells of rotten eggs",
            [
                "A sulfurous, rotten-egg smell means the pile has run out of oxygen. Without "
                "air, anaerobic microbes take over and produce hydrogen sulfide and other "
                "foul-smelling compounds. The usual causes are too much water, too many wet "
                "greens packed together, or a pile that has slumped into a dense mass.",
                "Turn the pile straight away and fork in plenty of coarse, dry browns such as "
                "straw, shredded cardboard or woody prunings. Cover the pile during long "
                "spells of rain, and make sure the base drains freely. The smell usually "
                "fades within a day or two once air gets back in.",
            ],
        ),
        (
            "The pile smells of ammonia",
            [
                "A sharp, ammonia smell means there is more nitrogen than the microbes can "
                "use, so the surplus escapes as gas. It is common after adding a large load "
                "of fresh grass clippings, chicken manure or other rich greens. The nitrogen "
                "lost to the air is nitrogen that will not feed your plants.",
                "Mix in dry browns to bring the carbon-to-nitrogen ratio back towards 25 or "
                "30 to one. Dry leaves and shredded paper work well. In future, add rich "
                "greens in thin layers, each one mixed with browns.",
            ],
        ),
    ],
    [
        (
            "The pile will not heat up",
            [
                "A cold pile is not a failed pile; it is only a slow one. To heat up, a pile "
                "needs enough mass to hold its warmth, enough nitrogen to feed a population "
                "boom of microbes, and enough water and air for them to work.",
                "Check the size first: a heap smaller than about one cubic metre loses heat "
                "as fast as it makes it. Next, squeeze a handful from the centre. If it is "
                "dry, water the pile as you turn it. If it is damp but cold, it probably "
                "needs more greens: fresh grass, manure or vegetable scraps. Piles also slow "
                "down in winter, so a cold pile in January may need nothing but patience.",
            ],
        ),
        (
            "The pile is dry and dusty",
            [
                "Dry material hardly decomposes at all, and a dry pile often fills with "
                "ants or the white threads of dormant fungi. Piles in full sun, piles made "
                "mostly of browns, and open-sided bins in windy places dry out fastest.",
                "Turn the pile and water each layer as you rebuild it, aiming for the feel of "
                "a wrung-out sponge. A cover of old carpet, cardboard or a purpose-made lid "
                "keeps moisture in. Move the bin into partial shade if it bakes in summer.",
            ],
        ),
        (
            "There are slimy, matted layers",
            [
                "Thick layers of grass clippings or soft leaves collapse into a wet mat that "
                "air cannot pass through. The inside turns grey-green and slimy and starts to "
                "smell. Break the layers up with a fork, mix them with coarse browns, and "
                "add grass in the future a little at a time.",
            ],
        ),
    ],
    [
        (
            "Flies, fruit flies and maggots",
            [
                "Small fruit flies gather wherever fresh food scraps are exposed. Bury each "
                "new load of scraps in the centre of the pile, or cover it with a layer of "
                "browns or finished compost several centimetres deep. Keep a lid on the "
                "kitchen caddy and empty it often.",
                "Large, segmented grey-brown larvae are usually black soldier fly larvae. "
                "They are harmless, do not spread disease and eat food waste remarkably "
                "fast, so most gardeners leave them alone. House-fly maggots are a sign that "
                "meat or fish has found its way into the pile.",
            ],
        ),
        (
            "Rats and mice",
            [
                "Rodents come for food and for a warm, dry, undisturbed nest. Keep cooked "
                "food, bread, meat and dairy out of open piles, or use a sealed bokashi "
                "bucket for them. Stand bins on a base of fine galvanised wire mesh, keep the "
                "pile moist, and turn it regularly: rats avoid places that are often "
                "disturbed.",
            ],
        ),
        (
            "Ants in the compost",
            [
                "Ants nest in compost that is too dry. They do little harm and even move "
                "minerals around, but they are a clear sign that the pile needs water. Turn "
                "it, wet it thoroughly, and the ants will move on.",
            ],
        ),
    ],
    [
        (
            "Is the compost finished?",
            [
                "Finished compost is dark brown, crumbly and smells like a woodland floor. "
                "Apart from the odd twig, eggshell or avocado stone, you cannot recognise "
                "what went into it. The surest sign is that the pile no longer heats up, "
                "even after it has been turned and watered.",
                "The bag test: seal a moist handful in a plastic bag and leave it in a warm "
                "place for three days. If it smells sour or of ammonia when you open it, the "
                "compost is still active and needs more time to cure.",
                "The cress test: fill one pot with the compost and another with bought "
                "potting compost, and sow cress or radish seeds in both. Immature compost "
                "contains compounds that hold back germination and root growth. If the "
                "seedlings in your compost come up as well as those in the bought mix, it is "
                "ready even for sowing.",
            ],
        ),
        (
            "Quick reference",
            [
                "Rotten eggs: too wet or compacted, so turn it and add browns. "
                "Ammonia: too many greens, so add browns. "
                "Cold: too small, too dry or too few greens. "
                "Dry and full of ants: water it while turning. "
                "Fruit flies: bury the scraps. "
                "Rats: no cooked food, wire mesh underneath, turn often.",
            ],
        ),
    ],
]

DOCX_TITLE = "Composting Methods Compared"
METHODS_TABLE = [
    ("Method", "Time to finished compost", "Space needed", "Effort", "Takes meat and dairy"),
    ("Hot pile", "2 to 3 months", "About 1 cubic metre", "High: build at once, turn weekly", "No"),
    ("Cold heap", "6 to 24 months", "Any size", "Low: add materials as they come", "No"),
    ("Worm bin", "3 to 6 months", "A crate or bin", "Moderate: feed and check weekly", "No"),
    ("Bokashi", "2 weeks, then 2 to 4 weeks in soil", "A kitchen bucket", "Low", "Yes"),
    ("Trench", "6 to 12 months", "A spare bed", "Low: dig once", "Not advised"),
    ("Leaf mould", "1 to 2 years", "A wire cage or bags", "Very low", "No"),
]


def build_pdf() -> bytes:
    """The troubleshooting guide: four A4 pages, each holding one group of problems."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.5 * cm,
        bottomMargin=2.5 * cm,
        title=PDF_TITLE,
        author=AUTHOR,
        subject="Diagnosing and fixing common home compost problems",
        creator="scripts/make_samples.py",
        invariant=1,
    )
    story: list = [Paragraph(PDF_TITLE, styles["Title"]), Paragraph(PDF_INTRO, styles["BodyText"])]
    for number, page in enumerate(PDF_PAGES):
        if number:
            story.append(PageBreak())
        for heading, paragraphs in page:
            story.append(Spacer(1, 0.3 * cm))
            story.append(Paragraph(heading, styles["Heading2"]))
            story.extend(Paragraph(p, styles["BodyText"]) for p in paragraphs)
    doc.build(story)
    return buf.getvalue()


def build_docx() -> bytes:
    """The methods comparison: headings, lists and a table, in document order."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = DOCX_TITLE
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.subject = "Six ways to turn kitchen and garden waste into soil"
    props.keywords = "compost, vermicomposting, bokashi, leaf mould"
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1

    add = document.add_paragraph
    document.add_heading(DOCX_TITLE, level=0)
    add(
        "There is no single right way to compost. The best method is the one that fits "
        "the space you have, the waste you produce and the time you are willing to spend. "
        "The table below compares six common methods; the sections after it explain how "
        "each one works."
    )
    table = document.add_table(rows=len(METHODS_TABLE), cols=len(METHODS_TABLE[0]))
    table.style = "Table Grid"
    for r, row in enumerate(METHODS_TABLE):
        for c, value in enumerate(row):
            table.cell(r, c).text = value

    document.add_heading("Hot composting", level=1)
    add(
        "A hot pile is built all at once from a generous mix of greens and browns, about "
        "one cubic metre in size, and kept as moist as a wrung-out sponge. Within a few "
        "days the centre reaches 55 to 65 degrees Celsius. The heat speeds decomposition "
        "and kills most weed seeds and plant diseases."
    )
    document.add_heading("Building the pile", level=2)
    add("Collect enough material to build the whole pile in one session.", style="List Number")
    add("Chop or shred anything larger than your hand.", style="List Number")
    add("Mix greens and browns as you go, watering dry layers.", style="List Number")
    add("Cover the finished pile to keep the rain off.", style="List Number")
    document.add_heading("Turning", level=2)
    add(
        "Turn the pile when the temperature starts to fall, usually after a week or so, "
        "moving the outside material into the middle. Each turn brings a new burst of "
        "heat. After four or five turns the pile stays cool and can be left to cure for "
        "a month or two."
    )

    document.add_heading("Cold composting", level=1)
    add(
        "A cold heap is the easy-going alternative: add materials whenever you have them "
        "and let time do the work. It needs almost no attention, but it takes six months "
        "to two years and never gets hot enough to kill weed seeds, so keep seeding weeds "
        "and diseased plants out of it. Two bays side by side work well: fill one while "
        "the other matures."
    )

    document.add_heading("Vermicomposting", level=1)
    add(
        "Worm bins use composting worms such as the red wiggler, Eisenia fetida, which "
        "live in rotting leaf litter rather than in soil. Garden earthworms do not "
        "survive in a bin. The worms turn food scraps into castings, a fine, rich "
        "material that makes an excellent addition to potting mixes."
    )
    document.add_heading("Bedding and conditions", level=2)
    add(
        "Fill the bin with moist bedding of shredded cardboard, newspaper or coir. "
        "Composting worms are happiest between about 15 and 25 degrees Celsius, so keep "
        "the bin out of frost and out of direct summer sun."
    )
    document.add_heading("Feeding", level=2)
    add(
        "Under good conditions a worm population can process roughly half its own weight "
        "in food each day, but start with less and increase the amount as the worms "
        "multiply. Bury food under the bedding, and go easy on citrus, onions and "
        "anything salty or oily."
    )

    document.add_heading("Bokashi", level=1)
    add(
        "Bokashi is a fermentation method rather than true composting. Food waste, "
        "including cooked food, meat and dairy, is packed into an airtight bucket in "
        "layers sprinkled with bran inoculated with lactic acid bacteria and yeasts. "
        "Drain off the liquid every few days. After about two weeks of fermentation the "
        "pickled waste is buried in soil or added to a compost pile, where it breaks "
        "down within a few weeks. It is acidic when fresh, so wait a couple of weeks "
        "before planting into the spot where it was buried."
    )

    document.add_heading("Trench composting", level=1)
    add(
        "Dig a trench about 30 centimetres deep, fill the bottom third with kitchen "
        "scraps and backfill with soil. Worms and microbes do the rest in place. Plant "
        "hungry crops such as beans, squash or tomatoes above the trench a few months "
        "later. Meat and dairy are best kept out, because animals may dig them up."
    )

    document.add_heading("Leaf mould", level=1)
    add(
        "Autumn leaves rot down mainly through fungi, which work slowly in cool, moist "
        "conditions. Pack wet leaves into a wire-mesh cage or into bin bags pierced with "
        "a few holes and leave them for one to two years. The result is low in "
        "nutrients but a superb soil conditioner, mulch and ingredient for seed compost."
    )

    document.add_heading("Choosing a method", level=1)
    add(
        "With a large garden and plenty of mixed waste, a hot pile or a pair of cold "
        "bays will handle everything. In a flat or a small yard, a worm bin or a bokashi "
        "bucket fits under the sink or on a balcony. Many gardeners combine methods: "
        "bokashi for cooked food, a worm bin for vegetable scraps, and a leaf cage for "
        "autumn leaves."
    )
    buf = io.BytesIO()
    document.save(buf)
    return _stable_zip(buf.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """The same archive with fixed member timestamps, so rebuilding is byte-identical."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = FIXED_TIME.timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(item))
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only report whether the committed files are stale"
    )
    args = parser.parse_args(argv)
    outputs = {
        SAMPLES / "compost-troubleshooting.pdf": build_pdf(),
        SAMPLES / "composting-methods.docx": build_docx(),
    }
    stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(SAMPLES.parent)}")
        return 1 if stale else 0
    SAMPLES.mkdir(exist_ok=True)
    for path, data in outputs.items():
        path.write_bytes(data)
        print(f"wrote {path.relative_to(SAMPLES.parent)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
