"""Small writes into a Milvus server: what one `ingest_texts` call costs, with and without a flush.

An HTTP `/ingest` of one document, an `add_texts` from LangChain, a `Silo.delete`: each is a
small write, and each used to end with a flush. On a server a flush waits for the growing
segment to be sealed (pymilvus polls in 0.5 s steps), while the write itself was durable
when the call returned (the server logs it). This script times N one-text ingests (and N
deletes) into a fresh collection, taking turns between `commit` as shipped (no flush on a
server) and a store whose `commit` flushes (the old behaviour), and prints the medians.

  python bench/bench_server_writes.py --uri http://127.0.0.1:19530 --token root:Milvus --n 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import machine  # noqa: E402

from ragsilo.silo import Silo  # noqa: E402


class ZeroCostEmbedder:
    """Hashed vectors: the model is not what this measures."""

    name = "zero-cost"
    dimension = 64

    def embed(self, texts: list[str]):  # noqa: ANN201
        import hashlib

        import numpy as np

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            raw = hashlib.shake_128(t.encode()).digest(self.dimension)
            v = np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 127.5
            out[i] = v / np.linalg.norm(v)
        return out

    embed_query = embed

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def _open(uri: str, token: str, name: str, flush: bool) -> Silo:
    silo = Silo.open(
        embedder=ZeroCostEmbedder(),
        milvus={"uri": uri, "token": token},
        collection={"name": name},
        index={"type": "FLAT"},
    )
    if flush:  # the old behaviour: every write ends with a flush
        store = silo.store
        store.commit = store.flush  # type: ignore[method-assign]
    return silo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uri", required=True)
    ap.add_argument("--token", default="root:Milvus")
    ap.add_argument("--n", type=int, default=10, help="writes per variant")
    args = ap.parse_args()

    names = {v: f"bench_writes_{v}_{uuid.uuid4().hex[:6]}" for v in ("commit", "flush")}
    silos = {v: _open(args.uri, args.token, names[v], v == "flush") for v in names}
    ingest: dict[str, list[float]] = {v: [] for v in names}
    delete: dict[str, list[float]] = {v: [] for v in names}
    try:
        for silo in silos.values():  # create each collection outside the timing
            silo.ingest_texts([("warm up text for the collection", {"name": "warm"})])
        for i in range(args.n):
            for v, silo in silos.items():  # interleaved
                text = f"Note {i} of the {v} run is a short paragraph about rain on a garden."
                t = time.perf_counter()
                silo.ingest_texts([(text, {"name": f"n{i}"})])
                ingest[v].append(time.perf_counter() - t)
        for i in range(args.n):
            for v, silo in silos.items():
                t = time.perf_counter()
                gone = silo.delete(where={"source": f"text://n{i}"})
                assert gone == 1, (v, i, gone)
                delete[v].append(time.perf_counter() - t)
    finally:
        for silo in silos.values():
            silo.drop_collection()
            silo.close()
    result = {
        "machine": machine(),
        "server": silos["commit"].info.version,
        "n": args.n,
        "ingest_ms_median": {v: round(1000 * statistics.median(x), 1) for v, x in ingest.items()},
        "delete_ms_median": {v: round(1000 * statistics.median(x), 1) for v, x in delete.items()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
