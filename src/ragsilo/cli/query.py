"""``ragsilo ask`` and ``ragsilo delete``: a thin layer over :class:`ragsilo.Silo`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

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
) -> None:
    """Answer a question from the collection, citing the hits as [1], [2] ..."""
    from ragsilo.cli.main import _out_console, _run, _state
    from ragsilo.store import parse_where

    state = _state(ctx)

    def body() -> None:
        with state.silo() as silo:
            answer = silo.ask(
                question,
                k=k,
                where=parse_where(where or []),
                filter=filter_expr,
                consistency_level=consistency,
                tenant=tenant,
            )
        con = _out_console()
        if as_json:
            con.print_json(json.dumps(answer.to_dict()))
            return
        con.print(escape(answer.text))
        for i, hit in enumerate(answer.citations, 1):
            con.print(f"[{i}] {escape(hit.source)}", markup=False)

    _run(body)


def delete(
    ctx: typer.Context,
    where: Where = None,
    filter_expr: RawFilter = None,
    tenant: Tenant = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete the chunks matching a filter (of one tenant, when the silo has tenants)."""
    from ragsilo.cli.main import _confirm, _out_console, _run, _state
    from ragsilo.store import parse_where

    state = _state(ctx)

    def body() -> None:
        what = " and ".join([*(where or []), *([filter_expr] if filter_expr else [])]) or "all"
        scope = f" of tenant {tenant}" if tenant else ""
        _confirm(yes, f"Delete the chunks{scope} matching {what}?", "refusing to delete")
        with state.silo() as silo:
            n = silo.delete(where=parse_where(where or []), filter=filter_expr, tenant=tenant)
        _out_console().print(f"deleted {n} chunks")

    _run(body)
