"""``ragsilo ask`` and ``ragsilo delete``: a thin layer over :class:`ragsilo.Silo`."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ragsilo.cli.common import confirm, get_state, out_console, parse_where, run
from ragsilo.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from ragsilo.models import Hit
    from ragsilo.silo import Silo

Tenant = Annotated[
    str | None,
    typer.Option(help="Tenant (required when collection.tenants is on)", show_default=False),
]
Where = Annotated[
    list[str] | None,
    typer.Option("--where", "-w", help="Filter field=value (repeatable; metadata.KEY=value)"),
]
RawFilter = Annotated[str | None, typer.Option("--filter", help="A raw Milvus boolean expression")]


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question")],
    k: Annotated[int, typer.Option("-k", "--top-k", help="Hits to answer from")] = 5,
    where: Where = None,
    filter_expr: RawFilter = None,
    consistency: Annotated[
        str | None, typer.Option(help="Strong | Bounded | Session | Eventually (this query)")
    ] = None,
    tenant: Tenant = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Print the answer piece by piece as it is written")
    ] = False,
) -> None:
    """Answer a question from the collection, citing the hits as [1], [2] ..."""
    state = get_state(ctx)

    def body() -> None:
        if stream and as_json:
            raise InputError("--stream prints text as it comes; use either --stream or --json")
        kwargs: dict[str, Any] = {
            "k": k,
            "where": parse_where(where),
            "filter": filter_expr,
            "consistency_level": consistency,
            "tenant": tenant,
        }
        if stream:
            with state.silo() as silo:
                citations = _print_stream(silo, question, kwargs)
            _print_citations(out_console(), citations)
            return
        with state.silo() as silo:
            answer = silo.ask(question, **kwargs)
        con = out_console()
        if as_json:
            con.print_json(json.dumps(answer.to_dict()))
            return
        con.print(escape(answer.text))
        _print_citations(con, answer.citations)

    run(body)


def _print_stream(silo: Silo, question: str, kwargs: dict[str, Any]) -> list[Hit]:
    """Write each piece of the answer to stdout as soon as it comes; return the citations."""
    ask_stream = getattr(silo, "ask_stream", None)
    if ask_stream is None:
        raise InputError("this version of ragsilo cannot stream answers", hint="leave out --stream")
    answer = ask_stream(question, **kwargs)
    out = sys.stdout
    wrote = False
    ended_with_newline = False
    for piece in answer:
        if not piece:
            continue
        out.write(piece)
        out.flush()
        wrote = True
        ended_with_newline = piece.endswith("\n")
    if wrote and not ended_with_newline:
        out.write("\n")
        out.flush()
    return list(answer.citations)


def _print_citations(con: Console, citations: Sequence[Hit]) -> None:
    for i, hit in enumerate(citations, 1):
        con.print(f"[{i}] {escape(hit.source)}", markup=False)


def delete(
    ctx: typer.Context,
    where: Where = None,
    filter_expr: RawFilter = None,
    tenant: Tenant = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete the chunks matching a filter (of one tenant, when the silo has tenants)."""
    state = get_state(ctx)

    def body() -> None:
        what = " and ".join([*(where or []), *([filter_expr] if filter_expr else [])]) or "all"
        scope = f" of tenant {tenant}" if tenant else ""
        confirm(yes, f"Delete the chunks{scope} matching {what}?", "refusing to delete")
        with state.silo() as silo:
            n = silo.delete(where=parse_where(where), filter=filter_expr, tenant=tenant)
        out_console().print(f"deleted {n} chunks")

    run(body)
