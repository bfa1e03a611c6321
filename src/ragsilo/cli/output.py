"""How the CLI shows results to a person (JSON output is produced in main.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ragsilo.errors import StoreFullError
from ragsilo.models import CollectionStats, FileResult, Hit, IngestReport, ServerInfo
from ragsilo.redact import scrub

if TYPE_CHECKING:
    from ragsilo.silo import DoctorReport

SNIPPET_CHARS = 240

# C0 and C1 controls, DEL, bidirectional overrides and lone surrogates (the bytes of a
# file name that is not UTF-8): none of them may reach a terminal as they are
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_char(m: re.Match[str]) -> str:
    o = ord(m.group())
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def printable(text: str) -> str:
    """``text`` with control characters, terminal escape sequences, bidirectional overrides
    and undecodable bytes written as ``\\xNN`` / ``\\uNNNN``: a crafted file name cannot
    move the cursor, recolour the terminal or print a fake line."""
    return _UNPRINTABLE.sub(_escape_char, text)


def shown(text: str) -> str:
    """``text`` ready for ``Console.print``: :func:`printable`, and rich markup escaped."""
    return escape(printable(text))


def error_text(error: BaseException) -> str:
    """An error's message ready for ``Console.print``: :func:`shown`, with any login inside
    a URL masked."""
    return shown(scrub(str(error)))


class IngestProgress:
    """A progress bar on stderr while files are ingested (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("ingesting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[last]}"),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> IngestProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("ingest", total=total, last="")

    def advance(self, result: FileResult) -> None:
        if self._progress is not None and self._task is not None and result.status != "removed":
            self._progress.update(self._task, advance=1, last=shown(Path(result.path).name))


def display_path(path: str) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _short(path: str) -> str:
    rel = display_path(path)
    return rel if not rel.startswith("..") else path


def print_ingest_report(con: Console, report: IngestReport) -> None:
    from ragsilo.ingest import halt

    # files an ingest stopped by an unreachable Milvus (or a full disk) did not write:
    # one line for all
    stopped = (halt.CODE, StoreFullError.code)
    unwritten = [f for f in report.failures if f.error_code in stopped]
    for f in report.failures:
        if f.error_code not in stopped:
            con.print(f"[red]failed[/red]  {shown(_short(f.path))}: {shown(f.message or '')}")
    if unwritten:
        more = f" and {len(unwritten) - 1} more" if len(unwritten) > 1 else ""
        con.print(
            f"[red]failed[/red]  {shown(_short(unwritten[0].path))}{more}: "
            f"{shown(unwritten[0].message or '')}"
        )
    for f in report.files:
        if f.status == "removed":
            con.print(f"[yellow]removed[/yellow] {shown(_short(f.path))} ({f.chunks} chunks)")
    con.print(
        f"files: {report.ingested} ingested, {report.skipped} unchanged, {report.failed} failed"
        + (f", {report.removed} removed" if report.removed else "")
        + f" | chunks written: {report.chunks_written}, deleted: {report.chunks_deleted}"
        + (f", quarantined: {report.chunks_quarantined}" if report.chunks_quarantined else "")
        + f" | {report.seconds:.1f}s"
    )


def rrf_scale(mode: str, reranker: str, retrieval: Any) -> float | None:
    """What turns a hybrid hit's RRF score into a 0..1 relevance (None: show scores as they are).

    A reciprocal-rank-fusion score is ``Σ w / (rrf_k + rank)``: about 0.016 for every hit with
    the default ``rrf_k`` of 60, whatever the query. Divided by the best score a hit can reach
    (first in both the dense and the BM25 list), 1.0 means "first in both" and 0.5 "first in
    one list only".
    """
    # cluster_smooth reorders but keeps each hit's own fused score, so it reads the same way
    if (
        mode != "hybrid"
        or reranker not in ("none", "cluster_smooth")
        or getattr(retrieval, "fusion", None) != "rrf"
    ):
        return None
    weights = getattr(retrieval, "weights", {}) or {}
    best = (float(weights.get("dense", 1.0)) + float(weights.get("bm25", 1.0))) / (
        int(retrieval.rrf_k) + 1
    )
    return 1.0 / best if best > 0 else None


def print_hits(
    con: Console, query: str, hits: list[Hit], *, rrf_scale: float | None = None
) -> None:
    """One line per hit (rank, score, source) and a snippet.

    With ``rrf_scale`` (hybrid search fused by rank) the score shown is the relevance
    ``RRF score × rrf_scale`` in 0..1, explained in a footnote; ``--json`` keeps the raw score.
    """
    if not hits:
        con.print(f"no hits for {shown(query)}")
        return
    for rank, h in enumerate(hits, 1):
        where = []
        if h.page:
            where.append(f"p.{h.page}")
        if h.section:
            where.append(h.section)
        loc = f" ({shown(' · '.join(where))})" if where else ""
        score = min(1.0, h.score * rrf_scale) if rrf_scale else h.score
        con.print(f"[bold]{rank}.[/bold] [cyan]{score:.3f}[/cyan]  {shown(_short(h.source))}{loc}")
        snippet = " ".join(h.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
        con.print(f"   {shown(snippet)}")
    if rrf_scale:
        con.print(
            "(hybrid: relevance 0..1 from rank fusion; 1.000 = first in both the dense and the "
            "BM25 results, 0.500 = first in one of them; --json shows the raw RRF scores)",
            style="dim",
        )


def print_stats(con: Console, s: CollectionStats, info: ServerInfo) -> None:
    t = Table(show_header=False, box=None)
    t.add_row("milvus", f"{info.kind} {info.version} at {shown(info.uri)}")
    t.add_row("collection", shown(s.name))
    t.add_row("chunks", str(s.rows))
    t.add_row("documents", str(s.documents))
    t.add_row("dimension", str(s.dimension))
    t.add_row("index", f"{s.index_type} / {s.metric_type}")
    t.add_row("consistency", s.consistency_level)
    t.add_row("load state", s.load_state)
    con.print(t)


def print_doctor(con: Console, report: DoctorReport) -> None:
    if report.info is not None:
        i = report.info
        con.print(f"milvus: {i.kind} {i.version} at {shown(i.uri)}")
        caps = ", ".join(
            f"{name} {'yes' if ok else 'no'}"
            for name, ok in (
                ("bm25", i.bm25),
                ("sparse", i.sparse),
                ("hybrid search", i.hybrid_search),
                ("rbac", i.rbac),
            )
        )
        con.print(f"capabilities: {caps}")
        con.print(f"index types: {', '.join(i.index_types)}")
    for s in report.steps:
        mark = "[green]ok[/green]  " if s.ok else "[red]FAIL[/red]"
        detail = f"  {shown(s.detail)}" if s.detail else ""
        con.print(f"{mark} {s.name:<18} {s.seconds * 1000:8.1f} ms{detail}")
    con.print("[green]all checks passed[/green]" if report.ok else "[red]some checks failed[/red]")
