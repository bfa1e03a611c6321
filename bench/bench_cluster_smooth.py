"""Cluster-aware ranking on the public BEIR sets: ``none`` against ``cluster_smooth`` (a sweep
of ``retrieval.cluster_weight``) and the four cluster strategies, for dense and hybrid search,
plus the distinct relevant documents an ``ask`` context holds.

Each corpus (or a fixed subset: every document judged for a query, plus a seeded random
sample of the others, ``--docs``) is ingested once into a Milvus Lite file of its own and
reused by every run, so the embedding is paid once.

    python bench/bench_cluster_smooth.py prepare --dir /tmp/ranking-bench \\
        --dataset ../shared/datasets/scifact --docs 2500
    python bench/bench_cluster_smooth.py run --dir /tmp/ranking-bench \\
        --dataset ../shared/datasets/scifact --docs 2500 --weights 0 0.1 0.2 0.3 0.5
    python bench/bench_cluster_smooth.py latency --dir /tmp/ranking-bench \\
        --dataset ../shared/datasets/scifact --docs 2500
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ragsilo.answer.context import context_pool_size, select_context  # noqa: E402
from ragsilo.eval import load_beir  # noqa: E402
from ragsilo.eval.beir import BeirDataset  # noqa: E402
from ragsilo.eval.metrics import dedupe, mean, ndcg_at_k  # noqa: E402
from ragsilo.eval.runner import _complete_documents, ingest_dataset  # noqa: E402
from ragsilo.eval.tune import (  # noqa: E402
    LabelledQueries,
    TuneSetting,
    bootstrap_ci,
    collect_pools,
    doc_key,
    row_vectors,
    score_settings,
)
from ragsilo.rerank.base import DEFAULT_CLUSTER_WEIGHT  # noqa: E402
from ragsilo.rerank.strategies import cluster_smooth_scores, neighbour_relevance  # noqa: E402
from ragsilo.retrieval.searcher import fuse_rows  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402


def subset(
    data: BeirDataset, docs: int | None, seed: int = 0, queries: int | None = None
) -> BeirDataset:
    """A seeded sample of ``queries`` queries (default all); every document judged for them
    plus a seeded random sample of the rest, ``docs`` in all."""
    if queries is not None and queries < len(data.qrels):
        kept = sorted(random.Random(seed).sample(sorted(data.qrels), queries))
        qrels = {q: data.qrels[q] for q in kept}
        data = BeirDataset(
            data.name, data.path, data.corpus, {q: data.queries[q] for q in kept}, qrels
        )
    if docs is None or docs >= len(data.corpus):
        return data
    judged = {d for q in data.qrels.values() for d in q}
    rest = sorted(d for d in data.corpus if d not in judged)
    random.Random(seed).shuffle(rest)
    keep = judged | set(rest[: max(0, docs - len(judged))])
    corpus = {d: v for d, v in data.corpus.items() if d in keep}
    return BeirDataset(data.name, data.path, corpus, data.queries, data.qrels)


def held_subset(silo: Silo, data: BeirDataset) -> BeirDataset:
    """``data`` cut to the documents the collection holds whole, and to the queries whose
    judged documents are all among them (for a corpus whose ingest was stopped early)."""
    held = {doc_key(s) for s in _complete_documents(silo)}
    corpus = {d: v for d, v in data.corpus.items() if d in held}
    qrels = {q: j for q, j in data.qrels.items() if all(d in held for d in j)}
    queries = {q: data.queries[q] for q in qrels}
    return BeirDataset(data.name, data.path, corpus, queries, qrels)


def open_silo(
    directory: Path, data: BeirDataset, extra: dict | None = None, *, uri: str | None = None
) -> Silo:
    """The silo of ``data``: a Milvus Lite file of its own in ``directory``, or a
    collection on the Milvus at ``uri`` (``RAGSILO_MILVUS__TOKEN`` logs in)."""
    overrides = {
        "milvus": {"uri": uri or str(directory / f"{data.name}-{len(data.corpus)}.db")},
        "collection": {"name": f"eval_{data.name}"},
    }
    for key, value in (extra or {}).items():
        overrides.setdefault(key, {}).update(value)
    return Silo.open(load_settings(None, overrides))


def prepare(args: argparse.Namespace) -> None:
    data = subset(load_beir(args.dataset), args.docs, queries=args.queries)
    started = time.perf_counter()
    if args.held:
        with open_silo(args.dir, data, uri=args.uri) as silo:
            held = held_subset(silo, data)
            silo.recluster()
            print(
                f"# {data.name}: {len(held.corpus)} of {len(data.corpus)} docs held, "
                f"{len(held.qrels)} queries with every judged document held; "
                f"{silo.stats().rows} rows, reclustered",
                flush=True,
            )
        return
    with open_silo(args.dir, data, uri=args.uri) as silo:
        written, seconds = ingest_dataset(
            silo,
            data,
            batch=args.batch,
            progress=lambda s, d, t: print(
                f"{s} {d}/{t} {time.perf_counter() - started:.0f} s", flush=True
            ),
        )
        silo.recluster()
        print(
            f"# {data.name}: {len(data.corpus)} docs, {written} chunks written in {seconds:.0f} s, "
            f"{silo.stats().rows} rows; total {time.perf_counter() - started:.0f} s; "
            f"load {os.getloadavg()}",
            flush=True,
        )


def run(args: argparse.Namespace) -> None:
    """The weight sweep (offline, from each query's candidate pool), then the real search path
    at ``--weight`` (nDCG@10 and latency), the seed strategies, and the ask context."""
    data = subset(load_beir(args.dataset), args.docs, queries=args.queries)
    labelled = LabelledQueries(data.name, data.queries, data.qrels, by_source=False)
    out: dict = {"dataset": data.name, "documents": len(data.corpus), "queries": len(data.qrels)}
    with open_silo(args.dir, data) as silo:
        if args.held:
            data = held_subset(silo, data)
            labelled = LabelledQueries(data.name, data.queries, data.qrels, by_source=False)
            out.update(documents=len(data.corpus), queries=len(data.qrels))
        model = silo.cluster_model(refresh=True)
        assert model is not None, "run prepare first"
        base = silo.settings.retrieval
        out["chunks"] = silo.stats().rows
        out["clusters"] = model.k
        print(
            f"# {data.name}: {len(data.corpus)} docs, {out['chunks']} chunks, {model.k} clusters, "
            f"{len(data.qrels)} queries; load {os.getloadavg()}",
            flush=True,
        )
        t = time.perf_counter()
        pools = collect_pools(silo, labelled, bm25=True)
        print(f"# pools in {time.perf_counter() - t:.0f} s", flush=True)
        grid = []
        for mode in args.modes:
            grid.append(TuneSetting(mode))
            grid += [
                TuneSetting(mode, rerank="cluster_smooth", cluster_weight=w) for w in args.weights
            ]
        per_query = score_settings(
            pools, labelled, grid, base, doc_key, metric=silo.index_plan.metric
        )
        sweep = []
        print("\n| mode | cluster_weight | nDCG@10 | gain over none | 95% interval |")
        print("|---|---:|---:|---:|---|")
        for s in grid:
            none = per_query[TuneSetting(s.mode)]
            deltas = [a - b for a, b in zip(per_query[s], none, strict=True)]
            lo, hi = bootstrap_ci(deltas)
            w = s.cluster_weight if s.rerank == "cluster_smooth" else 0.0
            sweep.append(
                {
                    "mode": s.mode,
                    "weight": w,
                    "ndcg": mean(per_query[s]),
                    "gain": mean(deltas),
                    "ci": [lo, hi],
                }
            )
            print(
                f"| {s.mode} | {w:g} | {mean(per_query[s]):.4f} | {mean(deltas):+.4f} "
                f"| {lo:+.4f} .. {hi:+.4f} |"
            )
        out["sweep"] = sweep
        if args.variants:
            out["variants"] = variant_sweep(
                pools, labelled, base, args, metric=silo.index_plan.metric
            )
        out["path"] = real_path(silo, data, args)
        if args.ask:
            out["ask"] = ask_context(silo, data, args)
    print(f"\n# load average after: {os.getloadavg()}", flush=True)
    results = args.results or args.dir
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"{data.name}-{len(data.corpus)}-results.json"
    target.write_text(json.dumps(out, indent=1))


def variant_sweep(
    pools: list, labelled: LabelledQueries, base, args: argparse.Namespace, *, metric: str
) -> list[dict]:
    """The evidence's constant against the weight, offline on the same pools: how many
    nearest candidates make up a hit's cluster (``neighbours``), each at every
    ``--weights``."""
    variants = [int(v) for v in args.variants]
    qrels = [labelled.qrels[q] for q in labelled.qrels]
    out = []
    print("\n| mode | neighbours | " + " | ".join(f"w {w:g}" for w in args.weights) + " |")
    print("|---|---|" + "---:|" * len(args.weights))
    for mode in args.modes:
        lists = []
        for pool in pools:
            rows = (
                pool.dense[: base.candidates]
                if mode == "dense"
                else fuse_rows(pool.dense, pool.sparse, base, metric=metric)[: base.candidates]
            )
            lists.append(rows)
        none = [
            ndcg_at_k(dedupe([doc_key(str(r.get("source", ""))) for r in rows]), q, 10)
            for rows, q in zip(lists, qrels, strict=True)
        ]
        for neighbours in variants:
            cells = []
            for w in args.weights:
                scores = []
                for rows, q in zip(lists, qrels, strict=True):
                    if len(rows) > 1:
                        blend = (
                            cluster_smooth_scores
                            if args.evidence == "lifts"
                            else neighbours_only_scores
                        )
                        blended = blend(
                            np.asarray([float(r["distance"]) for r in rows]),
                            row_vectors(rows),
                            w,
                            neighbours=neighbours,
                        )
                        rows = [rows[int(i)] for i in np.argsort(-blended, kind="stable")]
                    ranked = dedupe([doc_key(str(r.get("source", ""))) for r in rows])
                    scores.append(ndcg_at_k(ranked, q, 10))
                deltas = [a - b for a, b in zip(scores, none, strict=True)]
                lo, hi = bootstrap_ci(deltas)
                out.append(
                    {
                        "mode": mode,
                        "neighbours": neighbours,
                        "weight": w,
                        "gain": mean(deltas),
                        "ci": [lo, hi],
                    }
                )
                cells.append(f"{mean(deltas):+.4f}")
            print(f"| {mode} | {neighbours} | " + " | ".join(cells) + " |", flush=True)
    return out


def neighbours_only_scores(
    scores: np.ndarray, vectors: np.ndarray, weight: float, *, neighbours: int
) -> np.ndarray:
    """The first pick's evidence, for comparison: the best relevance among the hit's
    ``neighbours`` nearest candidates, the hit itself left out (so a hit standing alone
    is pushed down)."""
    rel, best = neighbour_relevance(scores, vectors, neighbours)
    return rel if best is None else (1.0 - weight) * rel + weight * best


def real_path(silo: Silo, data: BeirDataset, args: argparse.Namespace) -> list[dict]:
    """nDCG@10 and latency through ``Silo.search`` (k = retrieval.candidates chunks). The
    configurations take turns on each query (three rounds, the first to warm up), so a
    change in the machine's load falls on all of them alike."""
    silo.settings.retrieval.cluster_weight = args.weight
    k = silo.settings.retrieval.candidates
    vectors = {q: silo.embed_query(data.queries[q]) for q in data.qrels}
    configs = [(m, r) for m in args.modes for r in ("none", "cluster_smooth")]
    configs += [("dense", r) for r in args.seed_strategies]
    scores: dict = {c: [] for c in configs}
    times: dict = {c: [] for c in configs}
    for round_ in range(3):
        for q in data.qrels:
            for mode, rerank in configs:
                t = time.perf_counter()
                hits = silo.search(
                    data.queries[q], k=k, mode=mode, rerank=rerank, query_vector=vectors[q]
                )
                elapsed = time.perf_counter() - t
                if round_ == 0:
                    ranked = dedupe([doc_key(h.source) for h in hits])
                    scores[(mode, rerank)].append(ndcg_at_k(ranked, data.qrels[q], 10))
                else:
                    times[(mode, rerank)].append(elapsed)
    rows = []
    print(f"\nThe search path (Silo.search, k={k}, cluster_weight {args.weight})\n")
    print("| mode | rerank | nDCG@10 | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|")
    for mode, rerank in configs:
        p50, p95 = (float(np.percentile(times[(mode, rerank)], p)) * 1000 for p in (50, 95))
        ndcg = mean(scores[(mode, rerank)])
        rows.append({"mode": mode, "rerank": rerank, "ndcg": ndcg, "p50_ms": p50, "p95_ms": p95})
        print(f"| {mode} | {rerank} | {ndcg:.4f} | {p50:.1f} | {p95:.1f} |", flush=True)
    return rows


def latency(args: argparse.Namespace) -> None:
    """p50 and p95 of ``Silo.search`` with ``none`` and with ``cluster_smooth`` at each
    ``--ks`` and mode, with the extra cost of the reranker in percent. Every configuration
    takes its turn on each query, ``--rounds`` times after one warm-up round, so a change in
    the machine's load falls on all of them alike."""
    data = subset(load_beir(args.dataset), args.docs, queries=args.queries)
    with open_silo(args.dir, data, uri=args.uri) as silo:
        if args.held:
            data = held_subset(silo, data)
        vectors = {q: silo.embed_query(data.queries[q]) for q in data.qrels}
        configs = [
            (mode, k, rerank)
            for mode in args.modes
            for k in args.ks
            for rerank in ("none", "cluster_smooth")
        ]
        times: dict = {c: [] for c in configs}
        load = [os.getloadavg()[0]]
        for round_ in range(args.rounds + 1):
            for q in data.qrels:
                for mode, k, rerank in configs:
                    t = time.perf_counter()
                    silo.search(
                        data.queries[q],
                        k=k,
                        mode=mode,
                        rerank=rerank,
                        query_vector=vectors[q],
                        consistency_level=args.consistency,
                    )
                    if round_:
                        times[(mode, k, rerank)].append(time.perf_counter() - t)
            load.append(os.getloadavg()[0])
    print(
        f"\n{data.name}: {len(data.qrels)} queries x {args.rounds} rounds; "
        f"load {min(load):.1f}-{max(load):.1f}\n"
    )
    print(
        "| set | mode | k | p50 ms none | p50 ms cluster_smooth | extra "
        "| p95 ms none | p95 ms smooth |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for mode in args.modes:
        for k in args.ks:
            none, smooth = (
                np.asarray(times[(mode, k, r)]) * 1000 for r in ("none", "cluster_smooth")
            )
            p50n, p50s = float(np.median(none)), float(np.median(smooth))
            print(
                f"| {data.name} | {mode} | {k} | {p50n:.2f} | {p50s:.2f} "
                f"| {100 * (p50s / p50n - 1):+.0f} % | {np.percentile(none, 95):.2f} "
                f"| {np.percentile(smooth, 95):.2f} |",
                flush=True,
            )


def ask_context(silo: Silo, data: BeirDataset, args: argparse.Namespace) -> dict:
    """Distinct relevant documents among k=5 context chunks: plain top-5 against the
    selection ``Silo.ask`` makes, for each search mode."""
    k = 5
    out = {}
    print(f"\nask context, k={k}: mean distinct relevant documents (distinct documents)\n")
    print("| mode | plain top-5 | ask selection |")
    print("|---|---|---|")
    for mode in args.modes:
        plain_rel, plain_docs, sel_rel, sel_docs = [], [], [], []
        for q in data.qrels:
            pool = silo.retrieve(
                data.queries[q],
                k=context_pool_size(k, silo.settings.search.max_k),
                mode=mode,
                rerank="none",
            )
            judged = data.qrels[q]
            for chosen, rel, docs in (
                (pool.hits[:k], plain_rel, plain_docs),
                (select_context(pool.hits, k, cluster_ids=pool.cluster_ids), sel_rel, sel_docs),
            ):
                ids = {doc_key(h.source) for h in chosen}
                docs.append(len(ids))
                rel.append(sum(1 for d in ids if judged.get(d, 0) > 0))
        out[mode] = {
            "plain": [mean(plain_rel), mean(plain_docs)],
            "selected": [mean(sel_rel), mean(sel_docs)],
        }
        print(
            f"| {mode} | {mean(plain_rel):.3f} ({mean(plain_docs):.2f}) "
            f"| {mean(sel_rel):.3f} ({mean(sel_docs):.2f}) |",
            flush=True,
        )
    return out


def summary(args: argparse.Namespace) -> None:
    """Markdown tables over every ``*-results.json`` in ``--dir``: the weight sweep across
    the sets, the search path at the default weight, and the ask context."""
    folder = args.results or args.dir
    results = [json.loads(p.read_text()) for p in sorted(folder.glob("*-results.json"))]
    weights = sorted({row["weight"] for r in results for row in r["sweep"]} - {0.0})
    print(
        "| cluster_weight | "
        + " | ".join(f"{r['dataset']} {m}" for r in results for m in ("dense", "hybrid"))
        + " | worst | pairs > +0.005 |"
    )
    print("|---:|" + "---:|" * (2 * len(results) + 2))
    for w in weights:
        gains = [
            next(x["gain"] for x in r["sweep"] if x["mode"] == m and x["weight"] == w)
            for r in results
            for m in ("dense", "hybrid")
        ]
        print(
            f"| {w:g} | "
            + " | ".join(f"{g:+.4f}" for g in gains)
            + f" | {min(gains):+.4f} | {sum(g > 0.005 for g in gains)} |"
        )
    variant_summary(results)
    print(
        "\n| set | docs | chunks | clusters | queries | mode | none | cluster_smooth | gain "
        "| 95% interval | p50 ms none | p50 ms smooth |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|")
    for r in results:
        for m in ("dense", "hybrid"):
            path = {x["rerank"]: x for x in r["path"] if x["mode"] == m}
            w = args.weight
            sw = next(x for x in r["sweep"] if x["mode"] == m and x["weight"] == w)
            print(
                f"| {r['dataset']} | {r['documents']} | {r['chunks']} | {r['clusters']} "
                f"| {r['queries']} | {m} | {path['none']['ndcg']:.4f} "
                f"| {path['cluster_smooth']['ndcg']:.4f} | {sw['gain']:+.4f} "
                f"| {sw['ci'][0]:+.4f} .. {sw['ci'][1]:+.4f} | {path['none']['p50_ms']:.1f} "
                f"| {path['cluster_smooth']['p50_ms']:.1f} |"
            )
    print("\n| set | dense none | cluster_distance | cluster_size | centroid_query | mmr |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        d = {x["rerank"]: x["ndcg"] for x in r["path"] if x["mode"] == "dense"}
        print(
            f"| {r['dataset']} | "
            + " | ".join(
                f"{d[k]:.4f}" if k in d else "-"
                for k in ("none", "cluster_distance", "cluster_size", "centroid_query", "mmr")
            )
            + " |"
        )
    print("\n| set | mode | plain top-5: relevant docs (docs) | ask selection: relevant (docs) |")
    print("|---|---|---:|---:|")
    for r in results:
        for m, a in (r.get("ask") or {}).items():
            print(
                f"| {r['dataset']} | {m} | {a['plain'][0]:.3f} ({a['plain'][1]:.2f}) "
                f"| {a['selected'][0]:.3f} ({a['selected'][1]:.2f}) |"
            )


def pick(gains: dict, pairs: list) -> tuple:
    """The (neighbours, weight) the rule picks on ``pairs``: no pair below -0.005
    first, then the most pairs above +0.005, then the best worst pair."""

    def rank(key: tuple) -> tuple:
        g = [gains[key][p] for p in pairs]
        return (min(g) >= -0.005, sum(x > 0.005 for x in g), min(g))

    return max(gains, key=rank)


def variant_summary(results: list[dict]) -> None:
    """The evidence variants over every set and mode, the pick on all sets, and the
    leave-one-dataset-out picks (each set scored with the pick of the others)."""
    if not all(r.get("variants") for r in results):
        return
    gains: dict = {}
    for r in results:
        for x in r["variants"]:
            key = (x["neighbours"], x["weight"])
            gains.setdefault(key, {})[(r["dataset"], x["mode"])] = x["gain"]
    pairs = [(r["dataset"], m) for r in results for m in ("dense", "hybrid")]
    print(
        "\n| neighbours | weight | "
        + " | ".join(f"{d} {m}" for d, m in pairs)
        + " | worst | pairs > +0.005 |"
    )
    print("|---|---:|" + "---:|" * (len(pairs) + 2))
    for key in sorted(gains):
        g = [gains[key].get(p, float("nan")) for p in pairs]
        print(
            f"| {key[0]} | {key[1]:g} | "
            + " | ".join(f"{x:+.4f}" for x in g)
            + f" | {min(g):+.4f} | {sum(x > 0.005 for x in g)} |"
        )
    best = pick(gains, pairs)
    print(f"\nPicked on all sets: neighbours {best[0]}, weight {best[1]:g}")
    print("\n| held-out set | picked on the others | held-out dense | held-out hybrid |")
    print("|---|---|---:|---:|")
    for r in results:
        d = r["dataset"]
        key = pick(gains, [p for p in pairs if p[0] != d])
        print(
            f"| {d} | {key[0]} at {key[1]:g} | {gains[key][(d, 'dense')]:+.4f} "
            f"| {gains[key][(d, 'hybrid')]:+.4f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("summary").add_argument("--dir", type=Path, required=True)
    sub.choices["summary"].add_argument("--weight", type=float, default=DEFAULT_CLUSTER_WEIGHT)

    for name in ("prepare", "run", "latency"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, required=True)
        p.add_argument("--dataset", type=Path, required=True)
        p.add_argument("--docs", type=int, default=None)
        p.add_argument("--queries", type=int, default=None, help="a seeded sample of queries")
        p.add_argument(
            "--held",
            action="store_true",
            help="use only the documents the collection holds (an ingest stopped early)",
        )
    sub.choices["prepare"].add_argument(
        "--batch", type=int, default=500, help="documents per ingest call (progress lines)"
    )
    for name in ("summary", "run"):
        sub.choices[name].add_argument(
            "--results", type=Path, default=None, help="folder of *-results.json (default --dir)"
        )
    r = sub.choices["run"]
    r.add_argument("--modes", nargs="+", default=["dense", "hybrid"])
    r.add_argument(
        "--weights", type=float, nargs="+", default=[0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3]
    )
    r.add_argument(
        "--weight",
        type=float,
        default=DEFAULT_CLUSTER_WEIGHT,
        help="cluster_weight for the search path",
    )
    r.add_argument("--seed-strategies", nargs="*", default=[])
    r.add_argument(
        "--variants",
        nargs="*",
        default=[],
        help="neighbour counts of the evidence to sweep offline too (e.g. 3 5 7)",
    )
    r.add_argument(
        "--evidence",
        choices=["lifts", "neighbours"],
        default="lifts",
        help="the evidence the --variants sweep scores: the shipped one (the best relevance "
        "of the hit and its neighbours), or the best of its neighbours only (the first pick, "
        "which can push a hit down)",
    )
    r.add_argument("--ask", action="store_true")
    for name in ("prepare", "latency"):
        sub.choices[name].add_argument(
            "--uri", default=None, help="a Milvus server's URI instead of a Lite file in --dir"
        )
    lat = sub.choices["latency"]
    lat.add_argument("--modes", nargs="+", default=["dense", "hybrid"])
    lat.add_argument("--ks", type=int, nargs="+", default=[5, 50])
    lat.add_argument("--rounds", type=int, default=2)
    lat.add_argument(
        "--consistency",
        default=None,
        help="the searches' consistency level (default the collection's; on a server, "
        "Strong waits for the time tick)",
    )
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.command == "prepare":
        prepare(args)
    elif args.command == "latency":
        latency(args)
    elif args.command == "summary":
        summary(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
