"""Tenant layouts compared: partition key, named partitions, and a plain filtered field.

For each layout the same rows (random unit vectors, ``--tenants`` tenants of equal size) are
written into a fresh collection on ``--uri``, and ``--queries`` single-vector searches of one
tenant each are timed (p50/p95 ms), with a check that every hit belongs to the tenant asked
for. Layouts:

* ``partition_key``: a ``tenant`` VARCHAR partition key (what ``collection.tenants`` builds),
  searched with ``tenant == "t"``;
* ``named_partitions``: one partition per tenant, searched with ``partition_names``;
* ``filter_only``: a plain ``tenant`` VARCHAR field, searched with ``tenant == "t"``.

    python bench/bench_tenants.py --uri http://127.0.0.1:19530 --token root:Milvus
    python bench/bench_tenants.py --uri /tmp/tenants.db
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _corpus import machine, percentile  # noqa: E402

from ragsilo.settings import MilvusSettings  # noqa: E402
from ragsilo.store import MilvusStore  # noqa: E402


def _schema(client, dim: int, partition_key: bool):  # type: ignore[no-untyped-def]
    from ragsilo.store.schema import DataType  # the store's own import of it

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("tenant", DataType.VARCHAR, max_length=128, is_partition_key=partition_key)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    return schema


def run(args: argparse.Namespace) -> None:
    store = MilvusStore.connect(MilvusSettings(uri=args.uri, token=args.token))
    client = store.client
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(args.rows, args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    tenants = [f"t{i % args.tenants}" for i in range(args.rows)]
    queries = rng.normal(size=(args.queries, args.dim)).astype(np.float32)
    print(f"{machine()}; Milvus {store.info.kind} {store.info.version}")
    print(
        f"{args.rows} rows, dim {args.dim}, {args.tenants} tenants, "
        f"{args.queries} queries, k={args.k}"
    )
    for layout in ("partition_key", "named_partitions", "filter_only"):
        name = f"bench_tenants_{layout}"
        if client.has_collection(name):
            client.drop_collection(name)
        index = client.prepare_index_params()
        index.add_index(
            "vector",
            index_type="HNSW",
            metric_type="COSINE",
            params={"M": 16, "efConstruction": 200},
        )
        extra = {"num_partitions": args.partitions} if layout == "partition_key" else {}
        client.create_collection(
            name,
            schema=_schema(client, args.dim, layout == "partition_key"),
            index_params=index,
            consistency_level="Strong",
            **extra,
        )
        if layout == "named_partitions":
            for t in sorted(set(tenants)):
                client.create_partition(name, t)
        t0 = time.perf_counter()
        for start in range(0, args.rows, 2000):
            rows = [
                {"id": i, "tenant": tenants[i], "vector": vectors[i].tolist()}
                for i in range(start, min(start + 2000, args.rows))
            ]
            if layout == "named_partitions":
                by: dict[str, list[dict]] = {}
                for r in rows:
                    by.setdefault(r["tenant"], []).append(r)
                for t, part in by.items():
                    client.insert(name, part, partition_name=t)
            else:
                client.insert(name, rows)
        client.flush(name)
        insert_s = time.perf_counter() - t0
        client.release_collection(name)
        client.load_collection(name)
        times, leaks = [], 0
        for qi, q in enumerate(queries):
            tenant = f"t{qi % args.tenants}"
            # Eventually: the rows were flushed and loaded before; Strong would add the
            # server's wait for the latest timestamp (about 200 ms on Milvus 2.3) to each query
            kwargs: dict = {
                "output_fields": ["tenant"],
                "search_params": {"params": {"ef": 64}},
                "consistency_level": "Eventually",
            }
            if layout == "named_partitions":
                kwargs["partition_names"] = [tenant]
            else:
                kwargs["filter"] = f'tenant == "{tenant}"'
            t = time.perf_counter()
            res = client.search(
                name, data=[q.tolist()], limit=args.k, anns_field="vector", **kwargs
            )
            times.append((time.perf_counter() - t) * 1000)
            leaks += sum(1 for h in res[0] if h["entity"]["tenant"] != tenant)
        print(
            f"{layout:17s} insert+flush {insert_s:6.1f} s   "
            f"search p50 {percentile(times, 50):6.2f} ms"
            f"  p95 {percentile(times, 95):6.2f} ms   hits of other tenants: {leaks}"
        )
        client.drop_collection(name)
    store.close()


def main() -> None:
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--token", default=None)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("-k", type=int, default=10)
    run(ap.parse_args())


if __name__ == "__main__":
    main()
