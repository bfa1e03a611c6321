"""The extractive answer's sentence choice: the kind of answer a question asks for, and the
best hit's answer sentence kept in the answer."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ragsilo.answer import ExtractiveAnswerer
from ragsilo.answer.extractive import answer_kind, holds_answer_kind
from ragsilo.models import Hit

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _hit(n: int, text: str) -> Hit:
    return Hit(f"id{n}", 0.9 - n / 10, text, f"doc{n}.md", f"Doc {n}", None, None, 0, f"d{n}")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How hot does a compost pile get?", "temperature"),
        ("What temperature kills weed seeds?", "temperature"),
        ("How long does compost take?", "duration"),
        ("How often should I turn the pile?", "frequency"),
        ("When is compost ready?", "time"),
        ("In which year was the bridge opened?", "time"),
        ("How much water does a pile need?", "amount"),
        ("How many worms live in a square metre?", "amount"),
        ("What size should a bin be?", "amount"),
        ("Why does my compost smell?", None),
        ("What is bokashi?", None),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: str | None) -> None:
    assert answer_kind(question) == kind


def test_sentences_holding_each_kind_of_answer() -> None:
    assert holds_answer_kind("The centre reaches 55 to 65 degrees Celsius.", "temperature")
    assert holds_answer_kind("The centre reaches 55 to 65 °C (130 to 150 °F).", "temperature")
    assert not holds_answer_kind("A hot pile is built all at once.", "temperature")
    assert holds_answer_kind("It is ready in two to three months.", "duration")
    assert not holds_answer_kind("It is ready when it smells of earth.", "duration")
    assert holds_answer_kind("Turn it every week or two.", "frequency")
    assert holds_answer_kind("Sow the seeds in early spring.", "time")
    assert holds_answer_kind("That is roughly 40 to 60 percent moisture.", "amount")
    assert not holds_answer_kind("Keep it moist but not wet.", "amount")
    assert not holds_answer_kind("The centre reaches 60 °C.", None)


# The search put the hot-composting passage first; another passage shares more of the
# question's words without saying how hot.
HOT = _hit(
    0,
    "A hot pile is built all at once from a generous mix of greens and browns. "
    "Within a few days the centre reaches 55 to 65 degrees Celsius. "
    "The heat speeds decomposition and kills most weed seeds.",
)
SIZE = _hit(1, "A compost pile needs about one cubic metre to get hot and stay hot for long.")
FAQ = _hit(2, "A hot compost pile that is turned weekly is ready sooner than a cold heap.")


@pytest.mark.embed
def test_a_how_hot_question_gets_the_sentence_with_the_temperature(embedder) -> None:
    answer = ExtractiveAnswerer(embedder.embed).answer(
        "How hot does a compost pile get?", [HOT, SIZE, FAQ]
    )
    # the two sentences sharing most words come first; the third place goes to the one
    # that says how hot, not to the best hit's opening sentence
    assert "Within a few days the centre reaches 55 to 65 degrees Celsius. [1]" in answer.text
    assert "generous mix" not in answer.text


def test_without_embeddings_the_kind_of_answer_breaks_a_tie_in_shared_words() -> None:
    hits = [
        _hit(0, "A compost pile gets hot when greens and browns are mixed well."),
        _hit(1, "A compost pile gets to 60 °C in its centre within days."),
    ]
    answer = ExtractiveAnswerer(max_sentences=1).answer("How hot does a compost pile get?", hits)
    assert answer.text == "A compost pile gets to 60 °C in its centre within days. [2]"


def test_a_question_without_a_cue_is_ranked_as_before() -> None:
    answer = ExtractiveAnswerer(max_sentences=1).answer(
        "Which compost pile needs one cubic metre?", [HOT, SIZE, FAQ]
    )
    assert answer.text.startswith("A compost pile needs about one cubic metre")


def test_the_best_hits_answer_sentence_is_not_skipped() -> None:
    # Both other hits share every word of the question; the best hit's sentence shares few.
    top = _hit(0, "Hedgehogs sleep through the cold months from November until March.")
    wordy = [
        _hit(1, "Hibernate hedgehogs long: a Java library named after sleeping animals."),
        _hit(2, "Hedgehogs hibernate long is the title of a rock song from the nineties."),
    ]
    question = "How long do hedgehogs hibernate?"
    assert (
        "Hedgehogs sleep"
        not in ExtractiveAnswerer(max_sentences=2).answer(question, [wordy[0], top, wordy[1]]).text
    )  # not first: no place kept for it
    answer = ExtractiveAnswerer(max_sentences=2).answer(question, [top, *wordy])
    assert top.text in answer.text and answer.text.count("[") == 2
    # one sentence only: the best scoring one, wherever it comes from
    single = ExtractiveAnswerer(max_sentences=1).answer(question, [top, *wordy])
    assert top.text not in single.text


def test_the_best_hits_sentence_replaces_the_last_within_the_length_limit() -> None:
    top = _hit(0, "Hedgehogs sleep through the cold months from November until March.")
    long_ones = [
        _hit(i, f"Hedgehogs hibernate long, says song number {i} of the band.") for i in (1, 2)
    ]
    answer = ExtractiveAnswerer(max_sentences=3, max_chars=140).answer(
        "How long do hedgehogs hibernate?", [top, *long_ones]
    )
    assert top.text in answer.text and len(answer.text) < 200


@pytest.mark.lite
@pytest.mark.embed
def test_the_samples_answer_how_hot_a_compost_pile_gets(tmp_path, embedder) -> None:
    from ragsilo.settings import load_settings
    from ragsilo.silo import Silo

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    settings = load_settings(
        None, {"milvus": {"uri": str(tmp_path / "samples.db")}, "collection": {"name": "samples"}}
    )
    with Silo.open(settings, embedder=embedder) as silo:
        report = silo.ingest([SAMPLES])
        assert report.chunks_written > 50
        answer = silo.ask("how hot does a compost pile get?")
    assert "55 to 65 degrees Celsius" in answer.text, answer.text
    assert "[1]" in answer.text  # the best hit's sentence is in the answer
