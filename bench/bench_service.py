"""The HTTP service under load: concurrent clients against ``POST /search`` on 127.0.0.1.

Starts the service in a child process (uvicorn, one process, Milvus Lite in a
temporary folder, the default ONNX embedder), uploads the bundled sample
documents through ``POST /ingest``, warms up, then runs ``--clients``
concurrent clients (asyncio + httpx, keep-alive connections) that send
requests back to back for ``--seconds``. Prints requests per second, latency
percentiles and the error count; errors are any status other than 200 and any
transport failure.

    python bench/bench_service.py                                 # 20 clients, 30 s, /search
    python bench/bench_service.py --endpoint ask --clients 10 --seconds 20
    python bench/bench_service.py --json results.json

Client and server share the machine, so the numbers are for the whole loop on
one host; the load average before and after is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
START_SECONDS = 180

QUERIES = [
    "how hot should a compost pile get?",
    "what makes a compost pile smell bad?",
    "which materials are greens and which are browns?",
    "how often should I turn the pile?",
    "what lives in healthy soil?",
    "why do plants need nitrogen?",
    "can I compost meat and dairy?",
    "how do earthworms help the soil?",
    "what is a good carbon to nitrogen ratio?",
    "my compost is too wet, what should I do?",
    "how long does hot composting take?",
    "what does phosphorus do for plants?",
]

SERVER = """
import sys

import uvicorn

from ragsilo.service.app import create_app
from ragsilo.service.logging import configure_json_logging
from ragsilo.settings_sections import LlmSettings, ServiceSettings
from ragsilo.settings import Settings

uri, port = sys.argv[1], int(sys.argv[2])
if "service" in Settings.model_fields:
    settings = Settings(milvus={"uri": uri})
else:  # settings from before the service sections were part of Settings
    from pydantic import Field

    class _Settings(Settings):
        service: ServiceSettings = Field(default_factory=ServiceSettings)
        llm: LlmSettings = Field(default_factory=LlmSettings)

    settings = _Settings(milvus={"uri": uri})
configure_json_logging("warning")
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_config=None,
            access_log=False, log_level="warning")
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(folder / "bench.db"), str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited; see {folder / 'server.log'}")
        try:
            if httpx.get(url + "/ready", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"the service was not ready in {START_SECONDS} s")


def ingest_samples(url: str) -> dict[str, object]:
    files = [("files", (p.name, p.read_bytes())) for p in sorted(SAMPLES.iterdir()) if p.is_file()]
    started = time.perf_counter()
    r = httpx.post(url + "/ingest", files=files, timeout=600)
    r.raise_for_status()
    report = r.json()
    if report["failed"] or not report["chunks_written"]:
        failures = [f"{f['path']}: {f['message']}" for f in report["files"] if f["message"]]
        raise SystemExit("ingesting the samples failed:\n  " + "\n  ".join(failures))
    return {
        "files": len(files),
        "ingested": report["ingested"],
        "chunks": report["chunks_written"],
        "seconds": round(time.perf_counter() - started, 2),
    }


def body_for(endpoint: str, i: int) -> dict[str, object]:
    query = QUERIES[i % len(QUERIES)]
    return {"query": query, "k": 5} if endpoint == "search" else {"question": query, "k": 5}


async def load(url: str, endpoint: str, clients: int, seconds: float) -> dict[str, object]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        for i in range(10):  # warm-up, not measured
            (await http.post(f"/{endpoint}", json=body_for(endpoint, i))).raise_for_status()
        end = time.monotonic() + seconds

        async def client(n: int) -> None:
            i = n
            while time.monotonic() < end:
                t = time.perf_counter()
                try:
                    r = await http.post(f"/{endpoint}", json=body_for(endpoint, i))
                    if r.status_code != 200:
                        errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as e:
                    errors.append(repr(e))
                latencies.append(time.perf_counter() - t)
                i += clients

        started = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - started
    ms = [x * 1000 for x in latencies]
    return {
        "endpoint": f"POST /{endpoint}",
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--endpoint", choices=["search", "ask"], default="search")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()
    if not 1 <= args.clients <= 1000 or not 0 < args.seconds <= 3600:
        raise SystemExit("--clients must be 1..1000 and --seconds 0..3600")

    with tempfile.TemporaryDirectory(prefix="ragsilo-bench-") as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(Path(tmp), port)
        try:
            corpus = ingest_samples(url)
            load_before = os.getloadavg()[0]
            result = asyncio.run(load(url, args.endpoint, args.clients, args.seconds))
            load_after = os.getloadavg()[0]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    result.update(
        {
            "corpus": corpus,
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}",
            "load_average_1m": [round(load_before, 2), round(load_after, 2)],
        }
    )
    print(
        f"corpus: {corpus['files']} sample files, {corpus['chunks']} chunks, ingested over HTTP "
        f"in {corpus['seconds']} s"
    )
    print(
        f"machine: {result['machine']}; load average (1 min) before/after: "
        f"{result['load_average_1m'][0]} / {result['load_average_1m'][1]}"
    )
    print()
    print("| endpoint | clients | seconds | requests | errors | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {result['endpoint']} | {result['clients']} | {result['seconds']} | "
        f"{result['requests']} | {result['errors']} | {result['requests_per_s']} | "
        f"{result['p50_ms']} | {result['p95_ms']} | {result['p99_ms']} |"
    )
    if result["errors"]:
        print("first errors:", *result["first_errors"], sep="\n  ")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    raise SystemExit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
