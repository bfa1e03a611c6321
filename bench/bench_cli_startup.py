"""What a ``ragsilo`` command costs before it does anything.

    python bench/bench_cli_startup.py [--runs 10]

Times ``ragsilo --help``, ``--version`` and a ``search`` on a Milvus Lite file holding the
bundled samples (each a fresh process, median of ``--runs``), and splits one search into its
phases: importing the library (pymilvus and its dependencies), opening the silo, the first
query embedding (which loads the ONNX model) and the search itself. Wall time and CPU time
(user + system of the child) are both given: on a shared machine the CPU time is the steadier.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
QUERY = "how hot should a compost pile get?"

PHASES = """
import json, sys, time
t0 = time.perf_counter()
from ragsilo.silo import Silo
t1 = time.perf_counter()
silo = Silo.open(milvus={"uri": sys.argv[1]})
t2 = time.perf_counter()
vector = silo.embed_query(sys.argv[2])
t3 = time.perf_counter()
silo.search_vector(vector, k=5)
t4 = time.perf_counter()
silo.close()
print(json.dumps({"import": t1 - t0, "open": t2 - t1, "model": t3 - t2, "search": t4 - t3}))
"""


def timed(cmd: list[str], runs: int) -> tuple[float, float]:
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        before = os.times()
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - t)
        after = os.times()
        cpu.append(
            after.children_user
            - before.children_user
            + after.children_system
            - before.children_system
        )
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args()
    cli = [sys.executable, "-m", "ragsilo"]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        subprocess.run([*cli, "--uri", db, "ingest", str(SAMPLES)], check=True, capture_output=True)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print("| command | wall median | CPU median |")
        print("|---|---:|---:|")
        for label, extra, runs in (
            ("ragsilo --help", ["--help"], args.runs),
            ("ragsilo --version", ["--version"], args.runs),
            (f'ragsilo search "{QUERY}"', ["--uri", db, "search", QUERY], max(3, args.runs // 2)),
        ):
            wall, cpu = timed([*cli, *extra], runs)
            print(f"| `{label}` | {wall:.2f} s | {cpu:.2f} s |")
        phases: list[dict[str, float]] = []
        import json

        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", PHASES, db, QUERY],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            phases.append(json.loads(out.strip().splitlines()[-1]))
        med = {k: statistics.median(p[k] for p in phases) for k in phases[0]}
        print(
            "search phases (median of 3): "
            f"import ragsilo.silo {med['import']:.2f} s, Silo.open {med['open']:.2f} s, "
            f"first query embedding (model load) {med['model']:.2f} s, "
            f"search {med['search'] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
