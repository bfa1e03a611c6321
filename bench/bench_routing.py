"""Cluster routing on ≥ 100k chunks: latency and recall@10 against searching everything.

Volume: embedding 100k real chunks on a 2-core machine takes hours, so the
chunks are derived from the real SciFact chunk vectors of an eval collection
(run ``ragsilo eval`` first). Each real chunk is kept, and ``--copies`` variants
of it are added: ``normalise(α·a + (1 − α)·b + ε)`` where ``a`` is the real chunk,
``b`` another real chunk drawn at random, ``α ~ U[0.6, 1.0]`` and
``ε ~ N(0, (0.05² / d)·I)``. Mixing in a random other chunk spreads points
between topics, which makes routing harder than near-copies would. A variant's
text is its source chunk's text (for BM25 and display). The queries are the
real SciFact queries.

Two collections get the same rows: one clustered in place (one partition, the
layout without routing) and one with a partition per cluster (``k: auto``,
about √n clusters). For every query the full search of each is timed, then
routed searches over the nearest N clusters; recall@10 is the share of the full
search's top 10 (on the one-partition collection) that a routed search returns,
and also against an exact (numpy) top 10. The third way Milvus offers, a
partition key on ``cluster_id`` (Milvus hashes the key into a fixed number of
partitions: 16 on Milvus Lite, ``--key-partitions`` on a server), is measured on a
third collection built with pymilvus directly (``--partition-key``).

    python bench/bench_routing.py --source-uri /tmp/ragsilo-bench/scifact.db \\
        --uri /tmp/ragsilo-bench/routing.db --copies 7 --routes 1 2 4 8 16 32
    python bench/bench_routing.py ... --uri http://127.0.0.1:19530 --token root:Milvus
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import DEFAULT_QUERIES, machine, percentile  # noqa: E402

from ragsilo.models import Chunk  # noqa: E402
from ragsilo.settings import load_settings  # noqa: E402
from ragsilo.silo import Silo  # noqa: E402
from ragsilo.store.schema import VECTOR_FIELD  # noqa: E402


def read_source(uri: str, collection: str) -> tuple[list[dict], np.ndarray]:
    settings = load_settings(None, {"milvus": {"uri": uri}, "collection": {"name": collection}})
    with Silo.open(settings) as silo:
        silo.store.ensure_loaded(collection)
        rows = list(
            silo.store.iter_rows(
                collection,
                "",
                ["id", "doc_id", "source", "title", "text", VECTOR_FIELD],
                batch_size=2000,
            )
        )
    vectors = np.asarray([r.pop(VECTOR_FIELD) for r in rows], dtype=np.float32)
    return rows, vectors


def derive(rows: list[dict], vectors: np.ndarray, copies: int, seed: int):
    rng = np.random.default_rng(seed)
    n, d = vectors.shape
    chunks: list[Chunk] = []
    out = [vectors]
    for r in rows:
        chunks.append(_chunk(r, r["id"], 0))
    for c in range(1, copies + 1):
        other = vectors[rng.integers(0, n, n)]
        alpha = rng.uniform(0.6, 1.0, size=(n, 1)).astype(np.float32)
        noise = rng.normal(scale=0.05 / np.sqrt(d), size=(n, d)).astype(np.float32)
        v = alpha * vectors + (1 - alpha) * other + noise
        out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
        for r in rows:
            chunks.append(_chunk(r, f"{r['id'][:24]}-v{c}", c))
    return chunks, np.vstack(out).astype(np.float32)


def _chunk(r: dict, cid: str, copy: int) -> Chunk:
    return Chunk(
        id=cid,
        doc_id=r["doc_id"],
        source=r["source"] + (f"#v{copy}" if copy else ""),
        file_sha256="derived",
        mime_type="text/plain",
        title=r["title"],
        page=None,
        section=None,
        chunk_index=copy,
        text=r["text"],
        doc_chunks=1,
    )


def build(
    settings_over: dict, chunks: list[Chunk], vectors: np.ndarray, embedder, *, reuse: bool
) -> Silo:
    silo = Silo.open(load_settings(None, settings_over), embedder=embedder)
    if reuse and silo.store.has_collection(silo.collection):
        silo.store.ensure_loaded(silo.collection)
        rows = silo.store.count(silo.collection)
        model = silo.cluster_model()
        if rows == len(chunks) and model is not None:
            print(f"# {silo.collection}: reused ({rows} rows, k={model.k})", flush=True)
            return silo
    silo.drop_collection()
    silo._ensure_collection(create=True)
    t = time.perf_counter()
    batch = 5000
    for i in range(0, len(chunks), batch):
        silo.store.upsert_chunks(
            silo.collection, chunks[i : i + batch], vectors[i : i + batch], batch_bytes=16 << 20
        )
    silo.store.flush(silo.collection)
    print(
        f"# {silo.collection}: {len(chunks)} rows written in {time.perf_counter() - t:.0f}s",
        flush=True,
    )
    t = time.perf_counter()
    report = silo.recluster()
    layout = "partitions" if report.partitioned else "one partition"
    print(
        f"# {silo.collection}: recluster k={report.k} ({layout}) in {time.perf_counter() - t:.0f}s",
        flush=True,
    )
    return silo


def timed(
    silo, query: str, vec: np.ndarray, route: int, consistency: str | None = None
) -> tuple[list[str], float]:
    t = time.perf_counter()
    hits = silo.search(
        query,
        k=10,
        route=route,
        query_vector=vec,
        mode="dense",
        rerank="none",
        consistency_level=consistency,
    )
    return [h.id for h in hits], time.perf_counter() - t


class PartitionKeyCollection:
    """The same rows in a raw pymilvus collection whose ``cluster_id`` is a partition key;
    answers ``search`` like a Silo (routing = a filter on the key, which Milvus prunes by)."""

    def __init__(
        self, flat: Silo, parted: Silo, vectors: np.ndarray, chunks: list[Chunk], partitions: int
    ) -> None:
        from pymilvus import DataType, MilvusClient

        self.client = flat.store.client
        self.model = parted.cluster_model()
        self.name = "routing_key"
        self.plan = flat.index_plan
        if self.client.has_collection(self.name):
            self.client.drop_collection(self.name)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, max_length=64, is_primary=True)
        schema.add_field("text", DataType.VARCHAR, max_length=65535)
        schema.add_field("cluster_id", DataType.INT64, is_partition_key=True)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=vectors.shape[1])
        params = MilvusClient.prepare_index_params()
        build = dict(self.plan.build)
        params.add_index(
            field_name=VECTOR_FIELD,
            index_type=self.plan.type,
            metric_type=self.plan.metric,
            params={"params": build} if flat.info.kind == "lite" else build,
        )
        kwargs = {} if flat.info.kind == "lite" else {"num_partitions": partitions}
        self.client.create_collection(
            self.name, schema=schema, index_params=params, consistency_level="Strong", **kwargs
        )
        labels = self.model.assign(vectors)
        t = time.perf_counter()
        for i in range(0, len(chunks), 5000):
            self.client.insert(
                self.name,
                [
                    {"id": c.id, "text": c.text, "cluster_id": int(lab), VECTOR_FIELD: v.tolist()}
                    for c, lab, v in zip(
                        chunks[i : i + 5000],
                        labels[i : i + 5000],
                        vectors[i : i + 5000],
                        strict=True,
                    )
                ],
            )
        self.client.flush(self.name)
        self.client.load_collection(self.name)
        print(f"# {self.name}: {len(chunks)} rows in {time.perf_counter() - t:.0f}s", flush=True)

    def search(self, query, *, k, route, query_vector, mode, rerank, consistency_level=None):
        expr = ""
        if route:
            expr = f"cluster_id in {self.model.nearest(query_vector, route)}"
        res = self.client.search(
            self.name,
            data=[query_vector.tolist()],
            limit=k,
            filter=expr,
            output_fields=["text"],
            anns_field=VECTOR_FIELD,
            search_params=self.plan.search_params(k),
            **({"consistency_level": consistency_level} if consistency_level else {}),
        )
        return [_KeyHit(str(h["id"])) for h in res[0]]

    def drop(self) -> None:
        self.client.drop_collection(self.name)


class _KeyHit:
    def __init__(self, id: str) -> None:
        self.id = id


class _NoEmbedder:
    """The bench passes every vector itself; only the dimension is asked for."""

    name = "none"

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension

    def embed(self, texts):  # pragma: no cover - never called
        raise RuntimeError("the routing bench embeds nothing")

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source-uri", required=True, help="Lite file with the eval collection")
    ap.add_argument("--source-collection", default="eval_scifact")
    ap.add_argument("--uri", required=True, help="where to build the routing collections")
    ap.add_argument("--token", default=None)
    ap.add_argument("--copies", type=int, default=7)
    ap.add_argument("--routes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--index", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--partition-key", action="store_true", help="also measure a partition key on cluster_id"
    )
    ap.add_argument("--key-partitions", type=int, default=64)
    ap.add_argument(
        "--consistency",
        default=None,
        help="consistency level of every search (default: the collection's, Strong)",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="keep routing collections from an earlier run when their row count matches",
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)

    rows, real = read_source(args.source_uri, args.source_collection)
    chunks, vectors = derive(rows, real, args.copies, args.seed)
    print(f"# {len(rows)} real SciFact chunks -> {len(chunks)} rows (dim {vectors.shape[1]})")
    from ragsilo.embedding import create_embedder
    from ragsilo.settings import EmbeddingSettings

    real_embedder = create_embedder(EmbeddingSettings())
    queries = [json.loads(x)["text"] for x in DEFAULT_QUERIES.read_text().splitlines() if x]
    queries = queries[: args.queries]
    qvecs = real_embedder.embed(queries)
    embedder = _NoEmbedder(vectors.shape[1])

    milvus = {"uri": args.uri, **({"token": args.token} if args.token else {})}
    common = {"milvus": milvus, "index": {"type": args.index}}
    flat = build(
        {**common, "collection": {"name": "routing_flat"}, "clustering": {"partitions": False}},
        chunks,
        vectors,
        embedder,
        reuse=args.reuse,
    )
    parted = build(
        {**common, "collection": {"name": "routing_parts"}, "clustering": {"partitions": True}},
        chunks,
        vectors,
        embedder,
        reuse=args.reuse,
    )
    index_type = flat.index_plan.type
    ids = np.asarray([c.id for c in chunks])
    exact = [list(ids[np.argsort(-(vectors @ q))[:10]]) for q in qvecs]

    for silo in (flat, parted):  # warm caches and loads
        for q, v in list(zip(queries, qvecs, strict=True))[:5]:
            timed(silo, q, v, 0)
    results = []

    def measure(label: str, silo, route: int, base: list[list[str]] | None):
        lat, rec_full, rec_exact, got = [], [], [], []
        for i, (q, v) in enumerate(zip(queries, qvecs, strict=True)):
            hits, sec = timed(silo, q, v, route, args.consistency)
            lat.append(sec)
            got.append(hits)
            rec_exact.append(len(set(hits) & set(exact[i])) / 10)
            if base is not None:
                rec_full.append(len(set(hits) & set(base[i])) / 10)
        row = {
            "search": label,
            "route": route,
            "p50_ms": percentile(lat, 50) * 1000,
            "p95_ms": percentile(lat, 95) * 1000,
            "recall_vs_full": float(np.mean(rec_full)) if rec_full else 1.0,
            "recall_vs_exact": float(np.mean(rec_exact)),
        }
        results.append(row)
        print(
            f"| {label} | {route} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
            f"{row['recall_vs_full']:.3f} | {row['recall_vs_exact']:.3f} |",
            flush=True,
        )
        return got

    k = parted.cluster_model().k
    print(
        f"\n# {flat.info.kind} {flat.info.version}, index {index_type}, {len(chunks)} rows, "
        f"k={k}, {len(queries)} queries, consistency {args.consistency or 'collection'}; "
        f"{machine()}, load {os.getloadavg()}"
    )
    print("| search | N clusters | p50 ms | p95 ms | recall@10 vs full | recall@10 vs exact |")
    print("|---|---:|---:|---:|---:|---:|")
    full = measure("full, one partition", flat, 0, None)
    measure("full, partition per cluster", parted, 0, full)
    for n in args.routes:
        measure("routed, partitions", parted, n, full)
    for n in args.routes:
        measure("routed, cluster_id filter", flat, n, full)
    if args.partition_key:
        keyed = PartitionKeyCollection(flat, parted, vectors, chunks, args.key_partitions)
        measure("full, partition key", keyed, 0, full)
        for n in args.routes:
            measure("routed, partition key", keyed, n, full)
        keyed.drop()
    print(f"# load average after: {os.getloadavg()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": len(chunks),
                    "k": k,
                    "index": index_type,
                    "milvus": f"{flat.info.kind} {flat.info.version}",
                    "results": results,
                },
                indent=2,
            )
        )
    flat.close()
    parted.close()


if __name__ == "__main__":
    main()
