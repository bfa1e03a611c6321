"""Parse workers: processes that parse, chunk and score, each file under hard limits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ragsilo.chunking import create_chunker
from ragsilo.ingest.workers import ParseTask, WorkerKit, WorkerPool, prepare
from ragsilo.quality import QualityScorer
from ragsilo.settings import ChunkingSettings, QualitySettings

from ._costly import costly_parsers

WORDS = [
    "river",
    "mountain",
    "lantern",
    "harbour",
    "meadow",
    "copper",
    "violin",
    "glacier",
    "orchard",
    "falcon",
]


def _write_files(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        words = [WORDS[(i * 3 + j) % len(WORDS)] for j in range(40)]
        p = folder / f"note{i:02d}.txt"
        p.write_text(f"Note {i} about the {' '.join(words)}.\n", encoding="utf-8")
        out.append(p)
    return out


def _kit(embedder) -> WorkerKit:
    chunker = create_chunker(ChunkingSettings(), embedder.count_tokens)
    return WorkerKit(chunker.for_workers(), QualityScorer(QualitySettings()), costly_parsers())


def test_workers_give_the_same_chunks_and_scores_as_this_process(tmp_path: Path, embedder) -> None:
    files = _write_files(tmp_path / "docs", 6)
    kit = _kit(embedder)
    tasks = [
        ParseTask(n, str(p), "", f"doc{n}", path=str(p), max_bytes=1 << 20)
        for n, p in enumerate(files)
    ]
    pool = WorkerPool(kit, 2)
    try:
        got = {o.key: o for o in pool.run(iter(tasks), window=4, local=lambda t: prepare(kit, t))}
    finally:
        pool.close()
    assert sorted(got) == list(range(6))
    for t in tasks:
        here = prepare(kit, t)
        there = got[t.key]
        assert there.error is None
        assert [c.id for c in there.chunks] == [c.id for c in here.chunks]
        assert [c.text for c in there.chunks] == [c.text for c in here.chunks]
        assert there.scores == here.scores
        assert there.sha256 == here.sha256 != ""


def _silo_with_costly_parsers(make_silo, **ingest):
    silo = make_silo(ingest={"workers": 2, **ingest})
    silo._parsers = costly_parsers()  # the registry the workers get
    return silo


def test_a_file_over_the_time_limit_fails_alone(make_silo, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write_files(docs, 9)  # more than a tiny ingest: the workers parse
    (docs / "crafted.txt").write_text("SLOW to parse, on purpose.", encoding="utf-8")
    silo = _silo_with_costly_parsers(make_silo, file_timeout_s=3)
    t0 = time.monotonic()
    report = silo.ingest([docs])
    assert time.monotonic() - t0 < 40  # not the minute the crafted file asks for
    by_name = {Path(r.path).name: r for r in report.files}
    bad = by_name.pop("crafted.txt")
    assert bad.status == "failed" and bad.error_code == "file_too_costly"
    assert "longer than 3 s" in bad.message and "ingest.file_timeout_s" in bad.message
    assert {r.status for r in by_name.values()} == {"ingested"}
    assert len(by_name) == 9
    # the worker that was killed is replaced: the next ingest runs on a full pool
    (docs / "crafted.txt").unlink()
    _write_files(tmp_path / "more", 9)
    again = silo.ingest([tmp_path / "more"])
    assert {r.status for r in again.files} == {"ingested"}


def test_a_file_over_the_memory_limit_fails_alone(make_silo, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write_files(docs, 9)
    (docs / "bomb.txt").write_text("HUNGRY for memory, on purpose.", encoding="utf-8")
    silo = _silo_with_costly_parsers(make_silo, file_memory_mb=256)
    report = silo.ingest([docs])
    by_name = {Path(r.path).name: r for r in report.files}
    bad = by_name.pop("bomb.txt")
    assert bad.status == "failed" and bad.error_code == "file_too_costly"
    assert "256 MB" in bad.message and "ingest.file_memory_mb" in bad.message
    assert [r.status for r in by_name.values()] == ["ingested"] * 9


def test_the_workers_stay_warm_between_ingests_of_one_silo(make_silo, tmp_path: Path) -> None:
    silo = make_silo(ingest={"workers": 2})
    _write_files(tmp_path / "a", 9)
    _write_files(tmp_path / "b", 9)
    silo.ingest([tmp_path / "a"])
    pool = silo._parse_pools._pool
    pids = sorted(w.process.pid for w in pool._pool)
    assert len(pids) == 2 and os.getpid() not in pids
    report = silo.ingest([tmp_path / "b"])
    assert {r.status for r in report.files} == {"ingested"}
    assert silo._parse_pools._pool is pool
    assert sorted(w.process.pid for w in pool._pool) == pids
    silo.close()
    assert not pool.started


def test_a_setup_that_cannot_travel_is_parsed_in_this_process(make_silo, tmp_path: Path) -> None:
    silo = make_silo(ingest={"workers": 2})
    silo._chunker = create_chunker(ChunkingSettings(), lambda text: len(text.split()))
    _write_files(tmp_path / "docs", 9)
    report = silo.ingest([tmp_path / "docs"])
    assert {r.status for r in report.files} == {"ingested"}
    assert report.chunks_written + report.chunks_quarantined >= 9


def test_workers_default_to_the_machine_cores() -> None:
    from ragsilo.settings import IngestSettings

    assert IngestSettings().workers == min(64, len(os.sched_getaffinity(0)))
    s = IngestSettings()
    assert s.file_timeout_s == 120 and s.file_memory_mb == 2048


def _texts(n: int) -> list[str]:
    return [f"Text {i}: the {WORDS[i % 10]} and the {WORDS[(i + 3) % 10]} meet." for i in range(n)]


def test_many_texts_go_through_the_workers(lite_uri: str, hash_embedder) -> None:
    """With a fast embedder (a GPU, say) the texts are chunked and scored by the workers."""
    from ragsilo.settings import load_settings
    from ragsilo.silo import Silo

    texts = _texts(40)
    settings = load_settings(None, {"milvus": {"uri": lite_uri}, "ingest": {"workers": 2}})
    with Silo.open(settings, embedder=hash_embedder) as silo:
        report = silo.ingest_texts(texts)
        assert [r.status for r in report.files] == ["ingested"] * len(texts)
        assert silo._parse_pools._pool is not None and silo._parse_pools._pool.started
        again = silo.ingest_texts(texts)
        assert [r.status for r in again.files] == ["skipped"] * len(texts)


def test_texts_are_chunked_here_while_a_cpu_model_fills_the_cores(make_silo, embedder) -> None:
    """The ONNX model on the CPU keeps every core busy itself: parse workers for texts
    already in memory would only take cores from it (and cost their start-up)."""
    assert embedder.fills_cores
    silo = make_silo(ingest={"workers": 2})
    texts = _texts(40)
    report = silo.ingest_texts(texts)
    assert [r.status for r in report.files] == ["ingested"] * len(texts)
    assert silo._parse_pools._pool is None or not silo._parse_pools._pool.started
    assert report.stages["parse"] > 0  # chunked here, through the same stages


def test_a_script_without_a_main_guard_neither_hangs_nor_runs_again(tmp_path: Path) -> None:
    """Workers are fresh interpreters: the caller's script is not run again in each (as
    ``multiprocessing`` spawn would, ingesting again there or hanging the parent)."""
    import subprocess
    import sys

    marker = tmp_path / "runs.txt"
    docs = tmp_path / "docs"
    _write_files(docs, 12)  # more than a tiny ingest: the workers parse
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from ragsilo.settings import load_settings\n"
        "from ragsilo.silo import Silo\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        f"silo = Silo.open(load_settings(None, {{'milvus': {{'uri': {str(tmp_path / 'u.db')!r}}},"
        " 'ingest': {'workers': 2}}))\n"
        f"r = silo.ingest([{str(docs)!r}])\n"
        "print('STATUS', sorted({f.status for f in r.files}), silo._parse_pools._pool.started)\n"
        "silo.close()\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert "STATUS ['ingested'] True" in done.stdout, done.stderr[-2000:]
    assert marker.read_text(encoding="utf-8") == "run\n"


LAMP = (
    "The lighthouse keeper climbed the spiral stairs every evening to light the lamp, "
    "trim the wick and wind the clockwork that turned the great lens."
)


def test_duplicates_within_one_run_are_found_without_store_searches(
    make_silo, tmp_path: Path, monkeypatch
) -> None:
    from ragsilo.store import MilvusStore

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(LAMP, encoding="utf-8")
    (docs / "b.txt").write_text(LAMP, encoding="utf-8")
    (docs / "c.txt").write_text(LAMP.replace("every evening", "each evening"), encoding="utf-8")
    (docs / "d.txt").write_text("Honey bees live in colonies with one queen.", encoding="utf-8")
    searches: list[int] = []
    real = MilvusStore.search

    def counted(self, *a, **k):
        searches.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(MilvusStore, "search", counted)
    # one file per write group: the copies meet only across groups
    silo = make_silo(ingest={"workers": 1, "queue_files": 1})
    report = silo.ingest([docs])
    assert searches == []  # the collection was empty: the run's own chunks are checked in memory
    reasons = {Path(q.source).name: q.reasons for q in silo.quarantine_list()}
    assert report.chunks_written == 2 and report.chunks_quarantined == 2
    copies = {n: r for n, r in reasons.items() if n in {"a.txt", "b.txt"}}
    assert len(copies) == 1 and "duplicate" in next(iter(copies.values()))
    assert "near_duplicate" in reasons["c.txt"]
    # a second run into the now filled collection searches the store, and finds the same
    (docs / "e.txt").write_text(LAMP, encoding="utf-8")
    again = silo.ingest([docs])
    assert searches and again.chunks_quarantined == 1


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="Linux only")
def test_workers_die_with_a_killed_ingest(tmp_path: Path) -> None:
    """``kill -9`` of the ingest takes its parse workers along, even one deep in a file."""
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    docs = tmp_path / "docs"
    _write_files(docs, 9)
    (docs / "crafted.txt").write_text("SLOW to parse, on purpose.", encoding="utf-8")
    script = tmp_path / "killed.py"
    script.write_text(
        "import sys, threading, time\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from tests.ingest._costly import costly_parsers\n"
        "from ragsilo.settings import load_settings\n"
        "from ragsilo.silo import Silo\n"
        "if __name__ == '__main__':\n"
        f"    uri = {str(tmp_path / 'k.db')!r}\n"
        "    settings = {'milvus': {'uri': uri}, 'ingest': {'workers': 2}}\n"
        "    silo = Silo.open(load_settings(None, settings))\n"
        "    silo._parsers = costly_parsers()\n"
        f"    threading.Thread(target=silo.ingest, args=([{str(docs)!r}],), daemon=True).start()\n"
        "    while silo._parse_pools is None or silo._parse_pools._pool is None"
        " or not silo._parse_pools._pool.started:\n"
        "        time.sleep(0.1)\n"
        "    time.sleep(3)\n"
        "    print('PIDS', *[w.pid for w in silo._parse_pools._pool._pool], flush=True)\n"
        "    time.sleep(300)\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = ""
        deadline = time.monotonic() + 180
        while not line.startswith("PIDS") and time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                break
        pids = [int(p) for p in line.split()[1:]]
        assert len(pids) == 2, line
        assert not any(_gone(p) for p in pids)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.2)
    assert all(_gone(p) for p in pids)


def test_two_runs_on_one_pool_from_two_threads_take_turns(tmp_path: Path, embedder) -> None:
    """Two threads share one pool; the workers started by the first outlive its thread (as
    they must when a service runs each ingest on a request thread)."""
    import threading

    files = _write_files(tmp_path / "docs", 8)
    kit = _kit(embedder)
    pool = WorkerPool(kit, 2)
    got: dict[str, dict[int, str]] = {}

    def run(name: str, paths: list[Path]) -> None:
        tasks = [
            ParseTask(n, str(p), "", f"{name}{n}", path=str(p), max_bytes=1 << 20)
            for n, p in enumerate(paths)
        ]
        got[name] = {
            o.key: o.chunks[0].doc_id if o.chunks else repr(o.error)
            for o in pool.run(iter(tasks), window=2, local=lambda t: prepare(kit, t))
        }

    try:
        threads = [
            threading.Thread(target=run, args=("a", files[:4])),
            threading.Thread(target=run, args=("b", files[4:])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        replaced = pool.replaced
    finally:
        pool.close()
    assert replaced == 0
    assert got["a"] == {n: f"a{n}" for n in range(4)}
    assert got["b"] == {n: f"b{n}" for n in range(4)}


def test_a_worker_holds_several_small_files_and_a_slow_one_fails_alone(
    tmp_path: Path, embedder
) -> None:
    """One worker gets small files several at a time (it never waits for this process
    between them); the files queued behind one that runs out of time go on elsewhere."""
    files = _write_files(tmp_path / "docs", 12)
    slow = tmp_path / "docs" / "slow.txt"
    slow.write_text("SLOW to parse, on purpose.", encoding="utf-8")
    paths = [*files[:6], slow, *files[6:]]
    kit = _kit(embedder)
    tasks = [
        ParseTask(n, str(p), "", f"d{n}", path=str(p), max_bytes=1 << 20)
        for n, p in enumerate(paths)
    ]
    pool = WorkerPool(kit, 1, file_timeout_s=3)
    held: list[int] = []  # how many tasks the worker holds after each one sent
    try:
        pool._start()
        worker = pool._pool[0]
        real_send = worker.conn.send

        def counted(obj):
            real_send(obj)
            held.append(len(worker.tasks) + 1)

        worker.conn.send = counted  # type: ignore[method-assign]
        got = {o.key: o for o in pool.run(iter(tasks), window=4, local=lambda t: prepare(kit, t))}
    finally:
        pool.close()
    assert max(held) > 1
    assert sorted(got) == list(range(len(paths)))
    assert got[6].error_code == "file_too_costly" and "longer than 3 s" in (got[6].error or "")
    assert all(got[n].error is None and got[n].chunks for n in got if n != 6)


def test_workers_make_the_rows_bm25_terms_and_content_hashes(tmp_path: Path, embedder) -> None:
    from dataclasses import replace

    from ragsilo.quality import text_hash
    from ragsilo.store.analysis import EnglishTerms
    from ragsilo.store.rows import row_terms

    files = _write_files(tmp_path / "docs", 3)
    kit = replace(_kit(embedder), english_terms=True)
    tasks = [
        ParseTask(n, str(p), "", f"d{n}", path=str(p), max_bytes=1 << 20)
        for n, p in enumerate(files)
    ]
    pool = WorkerPool(kit, 1)
    try:
        got = list(pool.run(iter(tasks), window=2, local=lambda t: prepare(kit, t)))
    finally:
        pool.close()
    english = EnglishTerms()
    for o in got:
        assert o.chunks and o.error is None
        assert o.terms == [row_terms(c.text, english) for c in o.chunks]
        assert o.hashes == [text_hash(c.text) for c in o.chunks]
    plain = prepare(_kit(embedder), tasks[0])
    assert plain.terms == [] and len(plain.hashes) == len(plain.chunks)
