"""Throughput of the default ONNX embedder, and its cold load time.

Embeds passages of a fixed token length with every combination of
``--threads`` and batching and prints a table of passages per second. Batching
is either ``--batch-sizes`` (texts per model batch, no token limit) or
``--batch-tokens`` (padded tokens per model batch, up to 256 texts; the default
on the CPU is 256 per thread). The configurations of one thread count take
turns, run after run, so a change in the machine's load falls on all alike.
Passages come from a BEIR-style ``corpus.jsonl`` (``--corpus``) or, by
default, from deterministic synthetic English text; each is cut to exactly
``--tokens`` tokens by the MiniLM tokenizer.

    python bench/bench_embed.py
    python bench/bench_embed.py --threads 1 2 --batch-sizes 8 32 --batch-tokens 256 512 1024
    python bench/bench_embed.py --corpus path/to/corpus.jsonl --tokens 150
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ragsilo.embedding import OnnxEmbedder
from ragsilo.embedding._common import load_tokenizer
from ragsilo.settings import EmbeddingSettings

_WORDS = """
the a of and to in is that for on with as by this from are be or at an it its not
which data model search vector index query database system results method cluster
retrieval embedding memory latency throughput documents text language learning
network performance accuracy evaluation experiment training large small fast time
approach using based between these their each than more most over under within
users service storage server client request response batch parallel compute cost
protein cell gene expression patients clinical study analysis increased reduced
significant associated effect treatment response levels risk disease human mice
""".split()  # noqa: SIM905

_COLD = """
import json, sys, time
t0 = time.perf_counter()
from ragsilo.embedding import OnnxEmbedder
from ragsilo.settings import EmbeddingSettings
t1 = time.perf_counter()
e = OnnxEmbedder(EmbeddingSettings(device="cpu", threads={threads}))
e.count_tokens("warm")
t2 = time.perf_counter()
e.embed(["first passage"])
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "tokenizer": t2 - t1, "session_and_first": t3 - t2}}))
"""


def synthetic_text(rng: random.Random, words: int) -> str:
    sentences = []
    while words > 0:
        n = min(words, rng.randint(8, 24))
        sentence = " ".join(rng.choice(_WORDS) for _ in range(n))
        sentences.append(sentence.capitalize() + ".")
        words -= n
    return " ".join(sentences)


def make_passages(count: int, tokens: int, corpus: Path | None, seed: int) -> list[str]:
    tokenizer = load_tokenizer()
    rng = random.Random(seed)
    sources: list[str] = []
    if corpus is not None:
        with corpus.open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                text = f"{row.get('title', '')}. {row.get('text', '')}".strip()
                sources.append(text)
    passages: list[str] = []
    index = 0
    while len(passages) < count:
        if sources:
            text = sources[index % len(sources)]
            index += 1
        else:
            text = synthetic_text(rng, tokens * 2)
        encoding = tokenizer.encode(text, add_special_tokens=False)
        if len(encoding.ids) < tokens:
            if sources and index > 10 * len(sources):
                raise SystemExit(f"the corpus has too few passages of {tokens} tokens")
            continue
        passages.append(text[: encoding.offsets[tokens - 1][1]])
    return passages


def measure(
    passages: list[str], threads: int, batchings: list[tuple[int, int]], repeats: int
) -> list[tuple[float, float]]:
    """Median and best passages per second over ``repeats`` runs of each ``(batch_size,
    batch_tokens)``, the configurations taking turns."""
    embedders = [
        OnnxEmbedder(
            EmbeddingSettings(device="cpu", threads=threads, batch_size=size, batch_tokens=tokens)
        )
        for size, tokens in batchings
    ]
    for embedder in embedders:
        embedder.embed(passages[:16])  # load and warm up
    rates: list[list[float]] = [[] for _ in embedders]
    for _ in range(repeats):
        for embedder, out in zip(embedders, rates, strict=True):
            started = time.perf_counter()
            embedder.embed(passages)
            out.append(len(passages) / (time.perf_counter() - started))
    return [(statistics.median(r), max(r)) for r in rates]


def cold_load(threads: int, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _COLD.format(threads=threads)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[8, 32])
    parser.add_argument("--batch-tokens", type=int, nargs="*", default=[256, 512, 1024])
    parser.add_argument("--passages", type=int, default=512, help="passages per measurement")
    parser.add_argument("--tokens", type=int, default=150, help="tokens per passage")
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell (median)")
    parser.add_argument("--corpus", type=Path, help="BEIR corpus.jsonl to take passages from")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes for load time")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    passages = make_passages(args.passages, args.tokens, args.corpus, args.seed)
    source = args.corpus.name if args.corpus else "synthetic"
    print(
        f"ONNX all-MiniLM-L6-v2 int8, CPU, {os.cpu_count()} cores ({platform.machine()}), "
        f"{len(passages)} passages of {args.tokens} tokens ({source}); "
        f"passages/s, median (best) of {args.repeats} runs"
    )
    print()
    no_limit = 1 << 20
    batchings = [(b, no_limit) for b in args.batch_sizes] + [(256, t) for t in args.batch_tokens]
    names = [f"batch {b}" for b in args.batch_sizes] + [f"<= {t} tokens" for t in args.batch_tokens]
    print("| threads | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for threads in args.threads:
        cells = measure(passages, threads, batchings, args.repeats)
        print(f"| {threads} | " + " | ".join(f"{m:.1f} ({b:.1f})" for m, b in cells) + " |")
    print()
    for threads in args.threads:
        cold = cold_load(threads, args.cold_runs)
        total = sum(cold.values())
        print(
            f"cold load (threads={threads}, median of {args.cold_runs} fresh processes): "
            f"import {cold['import']:.2f} s, tokenizer {cold['tokenizer']:.2f} s, "
            f"session + first embedding {cold['session_and_first']:.2f} s, "
            f"total {total:.2f} s"
        )


if __name__ == "__main__":
    main()
