"""A short bounded load test: concurrent clients searching, not one error.

The long version (20 clients for 30 s) is ``bench/bench_service.py``.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

pytestmark = [pytest.mark.service, pytest.mark.lite, pytest.mark.embed]

CLIENTS = 10
SECONDS = 3.0
QUERIES = ["how do bees find flowers", "what is lava", "why does compost heat up", "magma"]


def test_concurrent_searches_without_errors(seeded) -> None:
    deadline = time.monotonic() + SECONDS
    counts: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        done = 0
        with httpx.Client(base_url=seeded.url, timeout=30) as c:
            while time.monotonic() < deadline:
                query = QUERIES[(n + done) % len(QUERIES)]
                try:
                    r = c.post("/search", json={"query": query, "k": 3})
                    if r.status_code != 200 or not r.json()["hits"]:
                        with lock:
                            errors.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as e:
                    with lock:
                        errors.append(repr(e))
                done += 1
        with lock:
            counts.append(done)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(counts) == CLIENTS and sum(counts) >= CLIENTS
    assert all(c >= 1 for c in counts)
