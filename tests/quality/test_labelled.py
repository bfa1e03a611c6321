"""The scorer on labelled chunks: precise on garbage, and keeping clean corpora whole.

``data/labelled_chunks.jsonl`` (built by ``data/build_labelled.py``) holds good
text of many kinds (prose, code, tables, lists, references, formulas, titles,
non-English and CJK text) and real garbage (boilerplate, menus, OCR noise,
mojibake, keyboard mash, spam, base64 and hex dumps).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from tests.quality.stdlib_docs import docstring_passages

from ragsilo.quality import QualityScorer
from ragsilo.settings import QualitySettings

DATA = Path(__file__).with_name("data") / "labelled_chunks.jsonl"
DATASETS = next(
    (
        p / "shared" / "datasets"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "datasets").is_dir()
    ),
    None,
)


@pytest.fixture(scope="module")
def scorer() -> QualityScorer:
    return QualityScorer(QualitySettings())


def _items() -> list[dict[str, object]]:
    return [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines() if x]


def test_the_labelled_set_covers_every_kind() -> None:
    kinds = Counter((it["label"], it["kind"]) for it in _items())
    assert sum(kinds.values()) >= 400
    good = {k for label, k in kinds if label == "good"}
    garbage = {k for label, k in kinds if label == "garbage"}
    assert good >= {"prose", "code", "table", "list", "references", "formula", "title"}
    assert good >= {"non_english", "cjk"}
    assert garbage >= {"cookie_banner", "nav_menu", "footer", "ocr_noise", "mojibake"}
    assert garbage >= {"keyboard_mash", "spam_repeat", "base64", "hex_dump"}


def test_precision_and_recall_on_garbage(scorer: QualityScorer) -> None:
    tp = fp = fn = 0
    wrong: list[tuple[str, str, object]] = []
    for it in _items():
        text, kind = str(it["text"]), str(it["kind"])
        score = scorer.score_text(text, ocr=bool(it["ocr"]))
        quarantined = not scorer.passes(score)
        garbage = it["label"] == "garbage"
        tp += quarantined and garbage
        fp += quarantined and not garbage
        fn += garbage and not quarantined
        if quarantined != garbage:
            wrong.append((kind, text[:60], score))
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    assert precision >= 0.95, (precision, wrong)
    assert recall >= 0.9, (recall, wrong)


def test_batched_scores_match_on_the_labelled_set(scorer: QualityScorer) -> None:
    texts = [str(it["text"]) for it in _items()]
    assert scorer.score_texts(texts) == [scorer.score_text(t) for t in texts]


def test_python_docstrings_stay_out_of_the_quarantine(scorer: QualityScorer) -> None:
    docs = [d for _, d in docstring_passages(800)]
    assert len(docs) >= 600
    bad = [(d[:80], s) for d in docs if not scorer.passes(s := scorer.score_text(d))]
    assert len(bad) <= 0.005 * len(docs), bad


@pytest.mark.skipif(DATASETS is None, reason="the shared labelled datasets are not here")
@pytest.mark.parametrize("name", ["cacm", "npl"])
def test_classic_collections_stay_out_of_the_quarantine(scorer: QualityScorer, name: str) -> None:
    # title-only records (CACM has 1,617) are short, not garbage
    assert DATASETS is not None
    path = DATASETS / name / "corpus.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        text = f"{rec.get('title') or ''}\n\n{rec.get('text') or ''}".strip()
        if text:
            texts.append(text)
    bad = [
        t[:80]
        for t, s in zip(texts, scorer.score_texts(texts), strict=True)
        if not scorer.passes(s)
    ]
    assert len(bad) <= 0.005 * len(texts), bad[:20]
