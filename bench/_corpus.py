"""Benchmark corpora: real text from a BEIR corpus.jsonl, one .txt file per document."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scifact" / "corpus.jsonl"
)
DEFAULT_QUERIES = DEFAULT_CORPUS.with_name("queries.jsonl")


def corpus_path(arg: str | None) -> Path:
    path = Path(arg) if arg else DEFAULT_CORPUS
    if not path.is_file():
        raise SystemExit(
            f"corpus {path} not found; pass --corpus path/to/corpus.jsonl (BEIR layout)"
        )
    return path


def write_documents(corpus: Path, out_dir: Path, n: int) -> list[Path]:
    """Write the first ``n`` records of ``corpus`` as title + text files (cycling if n > size)."""
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        rec = records[i % len(records)]
        p = out_dir / f"doc-{i:06d}.txt"
        suffix = f"\n\n(copy {i // len(records)})" if i >= len(records) else ""
        p.write_text(f"{rec.get('title', '')}\n\n{rec['text']}{suffix}\n", encoding="utf-8")
        paths.append(p)
    return paths


def read_queries(path: Path, n: int) -> list[str]:
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
    return [q["text"] for q in lines[:n]]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cores, {os.uname().machine}"


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
