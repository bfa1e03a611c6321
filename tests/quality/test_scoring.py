"""Quality scoring of chunk texts: each rule on hand-built good and bad texts."""

from __future__ import annotations

import pytest

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
