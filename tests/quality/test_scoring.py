"""Quality scoring of chunk texts: each rule on hand-built good and bad texts, the batched
API, and unusual but good text that must stay out of the quarantine."""

from __future__ import annotations

import pickle

import pytest

from ragsilo.errors import InputError
from ragsilo.quality import REASONS, QualityScorer, text_hash
from ragsilo.settings import QualitySettings

GOOD = (
    "Honey bees live in colonies with one queen and thousands of workers; the workers "
    "collect nectar and pollen and tell each other where food is with a waggle dance."
)


@pytest.fixture
def scorer() -> QualityScorer:
    return QualityScorer(QualitySettings())


def test_good_prose_scores_one(scorer: QualityScorer) -> None:
    s = scorer.score_text(GOOD)
    assert s.score == 1.0 and s.reasons == ()
    assert scorer.score_text("Tides follow the moon.").score == 1.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ok", "too_short"),
        ("4711 0815 ++++ //// 2024-01-01 ==== 99.5% #### 1234 5678 9012 3456", "symbols"),
        ("Home\nAbout\nHome\nAbout\nHome\nAbout\nHome\nAbout\nContact", "repeated_lines"),
        ("buy now buy now buy now buy now buy now buy now buy now buy now", "repeated_lines"),
        (
            "© 2024 Example Inc. All rights reserved.\nPrivacy Policy | Terms of Service\n"
            "We use cookies; click here to accept cookies.\nSubscribe to our newsletter.",
            "boilerplate",
        ),
        ("CafÃ© rÃ©sumÃ© naÃ¯ve â€œquotedâ€\x9d text that was decoded wrongly here", "encoding"),
        (
            "Ths \ufffd\ufffd text h\ufffds replacement ch\ufffdr\ufffdcters \ufffd in it",
            "encoding",
        ),
    ],
)
def test_each_rule_lowers_the_score_under_the_threshold(
    scorer: QualityScorer, text: str, reason: str
) -> None:
    s = scorer.score_text(text)
    assert reason in s.reasons, s
    assert 0.0 <= s.score < scorer.threshold
    assert set(s.reasons) <= set(REASONS)


def test_garbled_ocr_only_counts_for_ocr_text(scorer: QualityScorer) -> None:
    garbled = "Tlie qnck hrwn fx jmpd ovr tlie lzy dg xqzt bcdfg wrld prnt"
    assert "garbled_ocr" in scorer.score_text(garbled, ocr=True).reasons
    assert scorer.score_text(garbled, ocr=True).score < 0.5
    assert "garbled_ocr" not in scorer.score_text(garbled).reasons
    assert scorer.score_text(GOOD, ocr=True).score == 1.0


def test_duplicates_and_threshold(scorer: QualityScorer) -> None:
    s = scorer.score_text(GOOD)
    assert scorer.duplicate(s).score < 0.5 and scorer.duplicate(s).reasons == ("duplicate",)
    assert scorer.near_duplicate(s).reasons == ("near_duplicate",)
    # case and whitespace do not change the content hash
    assert text_hash("A  b\nC") == text_hash("a b c") != text_hash("a b d")
    strict = QualityScorer(QualitySettings(threshold=1.0, min_chars=500))
    assert not strict.passes(strict.score_text(GOOD))
    custom = QualityScorer(QualitySettings(boilerplate=[r"powered by \w+"]))
    footer = "Powered by WordPress. Theme by Example."
    assert "boilerplate" in custom.score_text(footer).reasons
    assert "boilerplate" not in scorer.score_text(footer).reasons


def test_text_without_spaces_counts_its_characters(scorer: QualityScorer) -> None:
    assert scorer.score_text("今天天气很好，我们去公园散步吧。").score == 1.0
    assert scorer.score_text("上海是中国最大的经济中心城市。", ocr=True).score == 1.0
    assert "too_short" in scorer.score_text("好").reasons


def test_score_texts_is_score_text_in_order(scorer: QualityScorer) -> None:
    texts = [GOOD, "ok", "Home\nAbout\nHome\nAbout\nHome\nAbout\nHome\nAbout\nContact", ""]
    assert scorer.score_texts(texts) == [scorer.score_text(t) for t in texts]
    garbled = "Tlie qnck hrwn fx jmpd ovr tlie lzy dg xqzt bcdfg wrld prnt"
    assert scorer.score_texts([garbled], ocr=True) == [scorer.score_text(garbled, ocr=True)]
    assert scorer.score_texts([]) == []
    with pytest.raises(InputError, match="sequence of texts"):
        scorer.score_texts(GOOD)
    with pytest.raises(InputError, match="text number 1 to score is a bytes"):
        scorer.score_texts([GOOD, b"bytes"])  # type: ignore[list-item]


def test_scorer_pickles_for_worker_processes() -> None:
    custom = QualityScorer(QualitySettings(threshold=0.6, boilerplate=[r"powered by \w+"]))
    copy = pickle.loads(pickle.dumps(custom))
    texts = [GOOD, "Powered by WordPress. Theme by Example.", "ok"]
    assert copy.score_texts(texts) == custom.score_texts(texts)
    assert copy.threshold == 0.6 and "boilerplate" in copy.score_text(texts[1]).reasons


@pytest.mark.parametrize(
    "text",
    [
        "Stack Frames",  # title-only records of a classic collection
        "COBOL",
        "POLYROOT (Algorithm 4)",
        "Summary",
        "你好",
    ],
)
def test_a_short_text_of_real_words_is_marked_not_quarantined(
    scorer: QualityScorer, text: str
) -> None:
    s = scorer.score_text(text)
    assert scorer.passes(s), s
    assert s.reasons in ((), ("too_short",))
    if s.reasons:
        # the mark lets a stricter threshold drop short chunks on purpose
        assert not QualityScorer(QualitySettings(threshold=0.9)).passes(s)


GOOD_UNUSUAL = {
    "doctest": (
        ">>> d = {}\n>>> d['a'] = 1\n>>> d['b'] = 2\n>>> d['c'] = 3\n>>> list(d)\n"
        "['a', 'b', 'c']\n>>> d.pop('b')\n2\n>>> list(d)\n['a', 'c']"
    ),
    "repeated code lines": (
        'parser.add_argument("--src", required=True, help="folder to copy from")\n'
        'parser.add_argument("--dst", required=True, help="folder to copy to")\n'
        'parser.add_argument("--dry-run", action="store_true", help="only print")\n'
        'parser.add_argument("--verbose", action="store_true", help="print every file")\n'
        "args = parser.parse_args()"
    ),
    "numeric table": (
        "Year  Cases  Deaths  CFR (%)\n2012  11,481  1133  9.9\n2013  18,615  1126  6.0\n"
        "2014  38,431  2752  7.2\n2015  2,740  228  8.3"
    ),
    "statistics": (
        "fell from 41.3% to 28.7%, a change of -31% (95% CI, -38% to -24%). In the north, the "
        "rate was expected to rise from 12.0% to 14.6%, a change of 22% (95% CI, 9%-35%). In "
        "the south it fell from 33.5% to 30.1% (95% CI, -17% to -3%)."
    ),
    "formula": "\\[ \\hat{\\beta} = (X^T X)^{-1} X^T y \\]",
    "prose about copyright": (
        "LENDING PHOTOCOPIES AND THE NEW COPYRIGHT LAW. THE REGIONAL BRANCH MET THREE TIMES TO "
        "DISCUSS WHAT THE COPYRIGHT CHANGES MEAN FOR INTERLIBRARY LOANS."
    ),
    "copyright line after prose": (
        "In summary, the engineered cells grew more slowly in culture and none of them formed "
        "tumours. © 2019 The Authors. Published by Example Press."
    ),
    "long abstract with its copyright line": (
        "Sleep spindles are short bursts of brain activity seen during light sleep, but what "
        "they do for memory is not well understood. Here, we show that spindle density after "
        "learning predicts recall on the next day, and that the effect depends on how well "
        "the material was learned before sleep. © 2019 The Authors. Published by Example "
        "Press. All rights reserved."
    ),
    "Czech": "Strč prst skrz krk. Čtvrthrst zmrzlin. Vlk zdrhl z mlýna.",
    "CJK with numbers": "机器学习模型在测试集上的准确率为92.4%，比基线高出3.1个百分点。",
    "code with escapes": ">>> read_uint2(io.BytesIO(b'\\xff\\x00'))\n255",
}


@pytest.mark.parametrize("kind", list(GOOD_UNUSUAL))
def test_unusual_good_text_is_kept(scorer: QualityScorer, kind: str) -> None:
    s = scorer.score_text(GOOD_UNUSUAL[kind])
    assert scorer.passes(s), (kind, s)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Home | About us | Products | Blog | Contact | Log in | Register", "boilerplate"),
        (
            "We use cookies to improve your experience on our website. By continuing to browse, "
            "you agree to our use of cookies.\nAccept all",
            "boilerplate",
        ),
        (
            "We use cookies to improve your experience on our website. By continuing to browse, "
            "you agree to our use of cookies. We and our partners use cookies and similar "
            "technologies to personalise content and ads. See our cookie policy for details. "
            "Accept all cookies or manage your preferences.",
            "boilerplate",
        ),
        ("Home Home Home Home Home Home Home Home", "repeated_lines"),
        ("fjdksla;fjdkslaf dkslfj aslkdfj qwrtzp sdfgh jklhgf zxcvbnm xcvbn", "gibberish"),
        (
            "Eac|i sarn¬le wa5 cc~ntr!fued at 4,000 g fo¦r 10 m•in ^|: th~e s¬u°pernat•ant",
            "gibberish",
        ),
        (
            "0000: 4bac 6f58 de5d d60c 0c1e 15fb 47ca 0a71\n0010: 0f74 65e7 a82f 6fb7 78cf 0949",
            "symbols",
        ),
        ("U29tZSBiYXNlNjQgZGF0YSB0aGF0IG5vYm9keSBjYW4gcmVhZCwgZW5jb2RlZCB0d2ljZQ==", "symbols"),
        ("ä»Šå¤©å¤©æ°”å¾ˆå¥½ï¼Œæˆ‘ä»¬åŽ»å…¬å›­æ•£æ­¥å§ã€‚", "encoding"),
    ],
)
def test_garbage_is_quarantined_with_its_reason(
    scorer: QualityScorer, text: str, reason: str
) -> None:
    s = scorer.score_text(text)
    assert reason in s.reasons, s
    assert not scorer.passes(s)
