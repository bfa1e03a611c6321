"""What creating a chunk collection costs: `MilvusStore.ensure_collection` of a new collection
(default HNSW index, the BM25 function where the store has it), three times, into Milvus Lite
or a server.

  python bench/bench_create.py                       # a Milvus Lite file in a temporary folder
  python bench/bench_create.py --uri http://127.0.0.1:19530 --token root:Milvus
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from ragsilo.settings import IndexSettings, MilvusSettings
from ragsilo.store import MilvusStore, plan_index
from ragsilo.store.schema import bm25_spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uri", default=None, help="default: a new Milvus Lite file")
    ap.add_argument("--token", default="")
    ap.add_argument("--n", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uri = args.uri or str(Path(tmp) / "create.db")
        store = MilvusStore.connect(MilvusSettings(uri=uri, token=args.token))
        plan = plan_index(IndexSettings(), store.info, 384)
        spec = bm25_spec("english", store.info) if store.capabilities.bm25_function else None
        seconds, names = [], []
        try:
            for _ in range(args.n):
                name = f"bench_create_{uuid.uuid4().hex[:8]}"
                names.append(name)
                t = time.perf_counter()
                store.ensure_collection(
                    name, dimension=384, plan=plan, consistency_level="Strong", bm25=spec
                )
                seconds.append(round(time.perf_counter() - t, 3))
        finally:
            for name in names:
                store.drop_collection(name)
            store.close()
    print(json.dumps({"store": store.info.kind, "version": store.info.version, "seconds": seconds}))


if __name__ == "__main__":
    main()
