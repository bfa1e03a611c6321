"""Quality scoring: what the scorer quarantines on clean public corpora, how precise it is on
the labelled set, and what it costs per chunk. Prints markdown tables for BENCHMARKS.md.

Each corpus is chunked the way ``ragsilo eval`` ingests it (each document is its title, a
blank line and its text, through the text parser and the default chunker with the model's
tokenizer), then scored without Milvus or an embedder. Exact duplicates are counted
apart: the write stage catches them by content hash, not the scorer.

    python bench/bench_quality.py                         # scifact cacm npl lisa + docs
    python bench/bench_quality.py --datasets ../shared/datasets --sets scifact cacm
    git show main:src/ragsilo/quality/scoring.py > /tmp/old_scoring.py
    python bench/bench_quality.py --baseline /tmp/old_scoring.py   # before/after, same chunks
    PEERS_DIR=/tmp/peers python ../shared/bench/peers/prepare.py
    python bench/bench_quality.py --peers-corpus /tmp/peers/corpus.jsonl   # + the peers' corpus
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from _corpus import machine  # noqa: E402
from tests.quality.stdlib_docs import docstring_passages  # noqa: E402

from ragsilo.chunking import RecursiveChunker  # noqa: E402
from ragsilo.embedding._common import load_tokenizer_counter  # noqa: E402
from ragsilo.ingest.texts import text_sources  # noqa: E402
from ragsilo.quality import QualityScorer, text_hash  # noqa: E402
from ragsilo.settings import ChunkingSettings, QualitySettings  # noqa: E402

LABELLED = ROOT / "tests" / "quality" / "data" / "labelled_chunks.jsonl"
# the shared datasets sit next to the checkout (or next to a folder holding it)
DEFAULT_DATASETS = next(
    (p / "shared" / "datasets" for p in ROOT.parents if (p / "shared" / "datasets").is_dir()),
    ROOT.parent / "shared" / "datasets",
)


def corpus_chunks(path: Path, chunker: RecursiveChunker) -> list[str]:
    """The chunk texts of a BEIR corpus.jsonl, as the eval ingest makes them."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        text = f"{rec.get('title') or ''}\n\n{rec.get('text') or ''}".strip()
        if text:
            items.append((text, {"name": str(rec["_id"])}))
    chunks: list[str] = []
    for doc in text_sources(items):
        parsed = doc.parse()
        chunks += [
            c.text
            for c in chunker.chunk(
                parsed, doc_id=doc.source, source=doc.source, file_sha256=doc.sha256
            )
        ]
    return chunks


def score_all(scorer: QualityScorer, texts: list[str]) -> list:
    batch = getattr(scorer, "score_texts", None)  # older scorers score one text at a time
    return batch(texts) if batch else [scorer.score_text(t) for t in texts]


def micros_per_chunk(scorer: QualityScorer, texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        score_all(scorer, texts)
        best = min(best, time.perf_counter() - t0)
    return best / max(len(texts), 1) * 1e6


def load_baseline(path: Path) -> QualityScorer:
    """A scorer from another version of ``scoring.py`` (timed against this one)."""
    spec = importlib.util.spec_from_file_location("baseline_scoring", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.QualityScorer(QualitySettings())


def quarantine_row(name: str, scorer: QualityScorer, texts: list[str]) -> dict[str, object]:
    scores = score_all(scorer, texts)
    hashes = Counter(text_hash(t) for t in texts)
    duplicates = sum(n - 1 for n in hashes.values())
    bad = [s for s in scores if not scorer.passes(s)]
    reasons = Counter(r for s in bad for r in s.reasons)
    return {
        "corpus": name,
        "chunks": len(texts),
        "exact_duplicates": duplicates,
        "quarantined": len(bad),
        "quarantined_pct": round(100 * len(bad) / max(len(texts), 1), 3),
        "reasons": dict(reasons.most_common()),
    }


def labelled(scorer: QualityScorer) -> dict[str, object]:
    items = [json.loads(x) for x in LABELLED.read_text(encoding="utf-8").splitlines() if x]
    tp = fp = fn = 0
    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for it in items:
        q = not scorer.passes(scorer.score_text(it["text"], ocr=bool(it.get("ocr"))))
        g = it["label"] == "garbage"
        tp += q and g
        fp += q and not g
        fn += g and not q
        if g and not q:
            missed[it["kind"]] += 1
        if q and not g:
            wrong[it["kind"]] += 1
    good = sum(1 for it in items if it["label"] == "good")
    return {
        "items": len(items),
        "good": good,
        "garbage": len(items) - good,
        "precision": round(tp / max(tp + fp, 1), 4),
        "recall": round(tp / max(tp + fn, 1), 4),
        "garbage_kept_by_kind": dict(missed),
        "good_quarantined_by_kind": dict(wrong),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    ap.add_argument("--sets", nargs="+", default=["scifact", "cacm", "npl", "lisa"])
    ap.add_argument("--docs", type=int, default=800, help="Python docstring passages")
    ap.add_argument("--timing-set", default="scifact", help="corpus for microseconds per chunk")
    ap.add_argument("--repeat", type=int, default=3, help="timing runs (the best counts)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    ap.add_argument(
        "--peers-corpus",
        type=Path,
        help="the peers' Python docs corpus.jsonl (one chunk-sized passage a line, 'text')",
    )
    ap.add_argument(
        "--baseline", type=Path, help="another scoring.py to time on the same chunks, alternating"
    )
    args = ap.parse_args()

    scorer = QualityScorer(QualitySettings())
    cs = ChunkingSettings()
    chunker = RecursiveChunker(load_tokenizer_counter(), cs.size, cs.overlap)
    rows = []
    timing = None
    for name in args.sets:
        path = args.datasets / name / "corpus.jsonl"
        if not path.is_file():
            raise SystemExit(f"{path} not found; pass --datasets DIR holding <set>/corpus.jsonl")
        texts = corpus_chunks(path, chunker)
        rows.append(quarantine_row(name, scorer, texts))
        if name == args.timing_set:
            timing = {"corpus": name, "chunks": len(texts)}
            base = load_baseline(args.baseline) if args.baseline else None
            if base is not None:
                rows.append(quarantine_row(f"{name} (baseline)", base, texts))
            ours = theirs = float("inf")
            for _ in range(args.repeat):
                # alternate, so that a busy moment of a shared machine hits both
                ours = min(ours, micros_per_chunk(scorer, texts, 1))
                if base is not None:
                    theirs = min(theirs, micros_per_chunk(base, texts, 1))
            timing["us_per_chunk"] = round(ours, 1)
            if base is not None:
                timing["baseline_us_per_chunk"] = round(theirs, 1)
    if args.docs > 0:
        docs = [d for _, d in docstring_passages(args.docs)]
        rows.append(quarantine_row(f"python-docstrings ({len(docs)})", scorer, docs))
    if args.peers_corpus is not None:
        if not args.peers_corpus.is_file():
            raise SystemExit(
                f"{args.peers_corpus} not found; build it with ../shared/bench/peers/prepare.py"
            )
        lines = args.peers_corpus.read_text(encoding="utf-8").splitlines()
        passages = [json.loads(x)["text"] for x in lines if x.strip()]
        rows.append(quarantine_row(f"python-docs peers corpus ({len(passages)})", scorer, passages))
    result = {
        "machine": machine(),
        "corpora": rows,
        "labelled": labelled(scorer),
        "timing": timing,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"\nQuality scoring ({machine()})\n")
    print("| corpus | chunks | exact duplicates | quarantined | % | reasons |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in r["reasons"].items()) or "-"
        print(
            f"| {r['corpus']} | {r['chunks']} | {r['exact_duplicates']} | {r['quarantined']} "
            f"| {r['quarantined_pct']:.2f} | {reasons} |"
        )
    lab = result["labelled"]
    print(
        f"\nLabelled set: {lab['items']} chunks ({lab['good']} good, {lab['garbage']} garbage): "
        f"precision {lab['precision']:.3f}, recall {lab['recall']:.3f} on garbage; "
        f"garbage kept {lab['garbage_kept_by_kind'] or '-'}, "
        f"good quarantined {lab['good_quarantined_by_kind'] or '-'}"
    )
    if timing:
        base = timing.get("baseline_us_per_chunk")
        print(
            f"\nSpeed: {timing['us_per_chunk']} µs per chunk on {timing['chunks']} "
            f"{timing['corpus']} chunks (best of {args.repeat})"
            + (f"; baseline {base} µs per chunk" if base is not None else "")
        )


if __name__ == "__main__":
    main()
