"""The first clustering on Milvus Lite: upserted in place against rebuilt, and what each leaves
behind for the searches that follow.

Milvus Lite keeps an upserted row's old copy in its data file until a compaction merges the
file, and every search walks past it. The first clustering gives every chunk a cluster id, so
in place it leaves one dead copy per chunk. This copies the chunks of a prepared collection
(``bench_cluster_smooth.py prepare``: vectors, codes and text as stored) into two fresh Milvus
Lite files as a just-ingested collection (no cluster ids), clusters one in place and one by
rebuilding (the default), then reports the recluster's seconds, the rows in each collection's
data files, and the p50 of ``Silo.search`` on both, the two silos taking turns on each query.

    python bench/bench_cluster_smooth.py prepare --dir /tmp/rb --dataset ../shared/datasets/cacm
    python bench/bench_recluster.py --dir /tmp/rb --dataset ../shared/datasets/cacm
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cluster_smooth import open_silo, subset  # noqa: E402

import ragsilo.cluster.recluster as recluster_module  # noqa: E402
from ragsilo.eval import load_beir  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402
from ragsilo.store.schema import UNASSIGNED  # noqa: E402

PAGE = 2000


def stored_rows(db: Path, collection: str) -> int:
    """Rows in a Milvus Lite collection's data files, replaced copies included."""
    folder = db / "collections" / collection
    manifest = json.loads((folder / "manifest.json").read_text())
    return sum(
        pq.read_metadata(folder / "partitions" / name / rel).num_rows
        for name, part in manifest["partitions"].items()
        for rel in part["data_files"]
    )


def copy_unclustered(source: Silo, target: Silo) -> int:
    """Every chunk of ``source`` written into ``target`` without its cluster id."""
    source.store.ensure_loaded(source.collection)
    fields = source.store.row_fields(source.collection)
    target._ensure_collection(create=True)
    page: list[dict] = []
    n = 0
    for row in source.store.iter_rows(source.collection, "", fields, batch_size=PAGE):
        page.append({**{f: row[f] for f in fields if f in row}, "cluster_id": UNASSIGNED})
        if len(page) >= PAGE:
            target.store.write_rows(target.collection, page)
            n, page = n + len(page), []
    if page:
        target.store.write_rows(target.collection, page)
        n += len(page)
    target.store.flush(target.collection)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, required=True, help="where prepare left the collection")
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--docs", type=int, default=None)
    ap.add_argument("--ks", type=int, nargs="+", default=[5, 50])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    data = subset(load_beir(args.dataset), args.docs)
    work = Path(tempfile.mkdtemp(prefix="recluster-bench-"))
    silos: dict[str, Silo] = {}
    out: dict[str, dict] = {}
    with open_silo(args.dir, data) as source:
        for way in ("in place", "rebuilt"):
            folder = work / way.replace(" ", "-")
            folder.mkdir()
            silo = open_silo(folder, data)
            rows = copy_unclustered(source, silo)
            # in place: as before, the chunks whose cluster changed are upserted
            recluster_module.REBUILD_SHARE = math.inf if way == "in place" else 0.5
            t = time.perf_counter()
            report = silo.recluster()
            seconds = time.perf_counter() - t
            db = Path(silo.settings.milvus.uri)
            out[way] = {
                "chunks": rows,
                "k": report.k,
                "rebuilt": report.rebuilt,
                "recluster_s": round(seconds, 2),
                "rows_in_data_files": stored_rows(db, silo.collection),
            }
            silos[way] = silo
        queries = [data.queries[q] for q in data.qrels]
        vectors = [source.embed_query(q) for q in queries]
    recluster_module.REBUILD_SHARE = 0.5
    configs = [(way, k, r) for way in silos for k in args.ks for r in ("none", "cluster_smooth")]
    times: dict = {c: [] for c in configs}
    load = [os.getloadavg()[0]]
    for round_ in range(args.rounds + 1):
        for text, vector in zip(queries, vectors, strict=True):
            for way, k, rerank in configs:
                t = time.perf_counter()
                silos[way].search(text, k=k, rerank=rerank, mode="dense", query_vector=vector)
                if round_:
                    times[(way, k, rerank)].append(time.perf_counter() - t)
        load.append(os.getloadavg()[0])
    for silo in silos.values():
        silo.close()
    for way, k, rerank in configs:
        p50 = float(np.median(times[(way, k, rerank)]))
        out[way][f"p50_ms_{rerank}_k{k}"] = round(p50 * 1e3, 2)
    print(
        f"{data.name}: {len(queries)} queries x {args.rounds} rounds, load "
        f"{min(load):.1f}-{max(load):.1f}"
    )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
