"""``ragsilo quality report`` and ``ragsilo quarantine list|promote|purge``: thin layers over
:class:`ragsilo.Silo`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ragsilo.cli.common import get_state, out_console, run
from ragsilo.cli.output import SNIPPET_CHARS, display_path
from ragsilo.errors import InputError

if TYPE_CHECKING:
    from ragsilo.quality.report import QualityReport, QuarantinedChunk

quality_app = typer.Typer(help="Chunk quality scores.", no_args_is_help=True)
quarantine_app = typer.Typer(
    help="Chunks held back for low quality: list, promote, purge.", no_args_is_help=True
)


def register_quality_commands(app: typer.Typer) -> None:
    app.add_typer(quality_app, name="quality")
    app.add_typer(quarantine_app, name="quarantine")


@quality_app.command("report")
def quality_report(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """How many chunks were kept and quarantined, and why."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            report = silo.quality_report()
        if as_json:
            out_console().print_json(json.dumps(report.to_dict()))
        else:
            print_quality_report(out_console(), report)

    run(body)


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many")] = 50,
    reason: Annotated[
        str | None, typer.Option(help="Only this reason (a name `quality report` lists)")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only chunks of this source")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List quarantined chunks, lowest score first."""

    state = get_state(ctx)

    def body() -> None:
        from ragsilo.quality import REASONS

        if reason is not None and reason not in REASONS:
            raise InputError(f"unknown reason {reason!r}; choose from {', '.join(REASONS)}")
        with state.silo() as silo:
            chunks = silo.quarantine_list(limit=limit, reason=reason, source=source)
        if as_json:
            out_console().print_json(json.dumps([c.to_dict() for c in chunks]))
        else:
            print_quarantine(out_console(), chunks)

    run(body)


@quarantine_app.command("promote")
def quarantine_promote(
    ctx: typer.Context,
    ids: Annotated[list[str], typer.Argument(help="Ids of the chunks to move into the silo")],
) -> None:
    """Move quarantined chunks into the collection, where search finds them."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            n = silo.promote(ids)
        out_console().print(f"promoted {n} chunk(s) into {state.settings().collection.name}")

    run(body)


@quarantine_app.command("purge")
def quarantine_purge(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Ids to delete (default: all)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete quarantined chunks for good (ingesting their files again does not restore them)."""

    state = get_state(ctx)

    def body() -> None:
        if not ids and not yes:
            if not sys.stdin.isatty():
                raise InputError(
                    "refusing to purge the whole quarantine without confirmation", hint="add --yes"
                )
            typer.confirm("Delete every quarantined chunk?", abort=True)
        with state.silo() as silo:
            n = silo.purge(ids or None)
        out_console().print(f"purged {n} chunk(s)")

    run(body)


def print_quality_report(con: Console, r: QualityReport) -> None:
    from ragsilo.quality import REASONS

    total = r.kept + r.quarantined
    share = f" ({100 * r.quarantined / total:.1f}%)" if total else ""
    con.print(
        f"[bold]{escape(r.collection)}[/bold]: {r.kept} chunks kept, "
        f"{r.quarantined} quarantined{share} (threshold {r.threshold})"
    )
    if r.unscored:
        con.print(f"{r.unscored} chunks were written before scoring and have no score")
    if r.bands:
        con.print("scores: " + ", ".join(f"{band}: {n}" for band, n in r.bands.items()))
    for title, reasons in (("quarantined", r.reasons_quarantined), ("kept", r.reasons_kept)):
        if reasons:
            con.print(f"reasons ({title}):")
            for reason, n in reasons.items():
                con.print(f"  {reason:<15} {n:>6}  {REASONS.get(reason, '')}")
    if r.worst_sources:
        con.print("sources with the most quarantined chunks:")
        for source, n in r.worst_sources:
            con.print(f"  {n:>6}  {escape(display_path(source))}")


def print_quarantine(con: Console, chunks: list[QuarantinedChunk]) -> None:
    if not chunks:
        con.print("the quarantine is empty")
        return
    for c in chunks:
        snippet = " ".join(c.text.split())
        if len(snippet) > SNIPPET_CHARS:
            snippet = snippet[: SNIPPET_CHARS - 1] + "…"
        con.print(
            f"[cyan]{c.score:.2f}[/cyan] {c.id}  {escape(display_path(c.source))}"
            f" #{c.chunk_index}  [yellow]{', '.join(c.reasons)}[/yellow]"
        )
        con.print(f"     {escape(snippet)}")
