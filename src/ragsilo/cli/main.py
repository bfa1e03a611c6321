"""The ``ragsilo`` command line: a thin layer over :class:`ragsilo.Silo`.

The app is built by :func:`create_app`; every command imports what it needs (Milvus, numpy,
the models) inside its body, so that ``ragsilo --help`` and ``--version`` start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ragsilo.cli.common import (
    DEFAULT_CONFIG,
    State,
    configure_logging,
    default_config,
    out_console,
    parse_where,
    run,
)
from ragsilo.cli.common import get_state as _state
from ragsilo.errors import InputError

# the names the command modules used before ragsilo.cli.common held them
_run = run
_out_console = out_console


def _version_callback(value: bool) -> None:
    if value:
        from ragsilo import __version__

        typer.echo(f"ragsilo {__version__}")
        raise typer.Exit()


def _main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="YAML settings file (default: $RAGSILO_CONFIG or ./ragsilo.yaml)"
        ),
    ] = None,
    uri: Annotated[
        str | None, typer.Option(help="Milvus URI: a .db file (Milvus Lite) or http://host:19530")
    ] = None,
    collection: Annotated[str | None, typer.Option(help="Collection name")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Milvus login 'user:password' or API key (prefer RAGSILO_MILVUS__TOKEN)",
            show_default=False,
        ),
    ] = None,
    db_name: Annotated[str | None, typer.Option(help="Milvus database name")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    if config is None:
        config = default_config()
    overrides = {
        "milvus": {"uri": uri, "token": token, "db_name": db_name},
        "collection": {"name": collection},
    }
    configure_logging(verbose)
    ctx.obj = State(config=config, overrides=overrides, verbose=verbose)


# --------------------------------------------------------------------------- init
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the file")] = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented configuration file with every setting and its default."""

    def body() -> None:
        from ragsilo.cli.config_template import CONFIG_TEMPLATE
        from ragsilo.settings import load_settings

        if path.exists() and not force:
            raise InputError(f"{path} already exists", hint="use --force to overwrite it")
        path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        load_settings(path)  # the template must always be valid
        _out_console().print(f"wrote {path}")

    _run(body)


# ------------------------------------------------------------------------- ingest
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(help="Files and folders to ingest")] = None,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Remove documents whose files disappeared from the folders"),
    ] = False,
    workers: Annotated[int | None, typer.Option(help="Parallel parse workers")] = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="Ingest again only the files the journal records as failed "
            "(inside PATHS, or all of them)",
        ),
    ] = False,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant that owns the documents (collection.tenants)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Ingest files and folders (txt, md, html, pdf, docx, csv, json, images).

    Run it again after a crash or a Milvus restart: it writes exactly what is missing.
    """
    state = _state(ctx)

    def body() -> int:
        from ragsilo.cli import output

        if not paths and not retry_failed:
            raise InputError("nothing to ingest: give at least one file or folder")
        progress = output.IngestProgress(enabled=not as_json and sys.stderr.isatty())
        with state.silo() as silo, progress as bar:
            report = silo.ingest(
                paths or [],
                prune=prune,
                workers=workers,
                progress=bar.advance,
                on_total=bar.start,
                retry_failed=retry_failed,
                tenant=tenant,
            )
        if as_json:
            _out_console().print_json(json.dumps(report.to_dict()))
        else:
            output.print_ingest_report(_out_console(), report)
        return 1 if report.failed else 0

    code = _run(body)
    raise typer.Exit(code)


# ------------------------------------------------------------------------- search
def search(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Argument(help="What to look for (leave out with --image)")
    ] = None,
    k: Annotated[int | None, typer.Option("-k", "--top-k", help="Number of hits")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", "-w", help="Filter field=value (repeatable; metadata.KEY=value)"),
    ] = None,
    filter_expr: Annotated[
        str | None, typer.Option("--filter", help="A raw Milvus boolean expression")
    ] = None,
    output_fields: Annotated[
        list[str] | None, typer.Option("--output-field", "-o", help="Extra field to return")
    ] = None,
    consistency: Annotated[
        str | None,
        typer.Option(help="Strong | Bounded | Session | Eventually (default: the collection's)"),
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant to search (required when collection.tenants is on)")
    ] = None,
    mode: Annotated[
        str | None, typer.Option(help="dense | bm25 | hybrid (default: retrieval.mode)")
    ] = None,
    rerank: Annotated[
        str | None,
        typer.Option(
            help="none | cluster_smooth | cluster_distance | cluster_size | centroid_query | mmr | "
            "custom:module:callable (default: retrieval.rerank)"
        ),
    ] = None,
    route: Annotated[
        int | None,
        typer.Option(
            help="Search only the N nearest clusters; 0 = all (default: retrieval.route_clusters)"
        ),
    ] = None,
    group: Annotated[
        bool, typer.Option("--group", help="Show the hits grouped by cluster")
    ] = False,
    image: Annotated[
        Path | None,
        typer.Option("--image", help="Find the images most like this image (needs images.model)"),
    ] = None,
    images: Annotated[
        bool,
        typer.Option("--images", help="Find images by the query text (needs images.model)"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON")] = False,
) -> None:
    """Search the collection and print the best hits with their sources."""
    state = _state(ctx)

    def body() -> None:
        from ragsilo.cli import output

        if image is not None or images:
            if (image is None) == (query is None):
                raise InputError("give either a query text with --images, or --image FILE")
            with state.silo() as silo:
                hits = silo.search_images(query, image=image, k=k, tenant=tenant)
            if as_json:
                _out_console().print_json(json.dumps([h.to_dict() for h in hits]))
            else:
                output.print_hits(_out_console(), query or str(image), hits)
            return
        if query is None:
            raise InputError("give a query text (or --image FILE)")
        from ragsilo.retrieval.query import Query

        search_query = Query.of(
            query,
            k=k,
            where=parse_where(where or []),
            filter=filter_expr,
            output_fields=output_fields,
            consistency_level=consistency,
            mode=mode,
            rerank=rerank,
            route=route,
            tenant=tenant,
        )
        with state.silo() as silo:
            result = silo.retrieve(search_query)
            from ragsilo.rerank import group_by_cluster

            groups = (
                group_by_cluster(result.hits, result.cluster_ids, silo.cluster_model())
                if group
                else None
            )
        if as_json:
            data: object = (
                [g.to_dict() for g in groups]
                if groups is not None
                else [h.to_dict() for h in result.hits]
            )
            _out_console().print_json(json.dumps(data))
        elif groups is not None:
            from ragsilo.cli.retrieval import print_groups

            print_groups(_out_console(), query, groups)
        else:
            scale = output.rrf_scale(result.mode, result.reranker, state.settings().retrieval)
            output.print_hits(_out_console(), query, result.hits, rrf_scale=scale)

    _run(body)


# -------------------------------------------------------------------------- stats
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show the collection's size, index and load state."""
    state = _state(ctx)

    def body() -> None:
        from ragsilo.cli import output

        with state.silo() as silo:
            s = silo.stats()
            info = silo.info
        if as_json:
            _out_console().print_json(json.dumps({**s.to_dict(), "server": info.to_dict()}))
        else:
            output.print_stats(_out_console(), s, info)

    _run(body)


# -------------------------------------------------------------------- collections
def collections_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List the collections in the database."""
    state = _state(ctx)

    def body() -> None:
        with state.silo() as silo:
            names = silo.collections()
        if as_json:
            _out_console().print_json(json.dumps(names))
        else:
            con = _out_console()
            for n in names:
                con.print(n)
            if not names:
                con.print("(no collections)")

    _run(body)


def collections_drop(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Collection to drop")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Drop a collection and everything in it."""
    state = _state(ctx)

    def body() -> None:
        if not yes:
            if not sys.stdin.isatty():
                raise InputError(
                    f"refusing to drop {name!r} without confirmation", hint="add --yes"
                )
            typer.confirm(f"Drop collection {name!r} and all its data?", abort=True)
        with state.silo() as silo:
            dropped = silo.drop_collection(name)
        if not dropped:
            from ragsilo.errors import NotFoundError

            raise NotFoundError(f"collection {name!r} does not exist")
        _out_console().print(f"dropped {name}")

    _run(body)


# ------------------------------------------------------------------------- doctor
def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Check the connection: server kind, version, capabilities, and a full round trip."""
    state = _state(ctx)

    def body() -> bool:
        from ragsilo.cli import output

        with state.silo() as silo:
            report = silo.doctor()
        if as_json:
            _out_console().print_json(json.dumps(report.to_dict()))
        else:
            output.print_doctor(_out_console(), report)
        return report.ok

    ok = _run(body)
    raise typer.Exit(0 if ok else 5)


def _register_optional_apps(app: typer.Typer) -> None:
    from ragsilo.cli.deploy import deploy_app
    from ragsilo.cli.serve import keys_app, serve

    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(deploy_app, name="deploy")
    from ragsilo.cli.retrieval import register_retrieval_commands

    register_retrieval_commands(app)
    from ragsilo.cli.quality import register_quality_commands

    register_quality_commands(app)
    from ragsilo.cli.admin import register_admin_commands

    register_admin_commands(app)
    from ragsilo.cli.tune import register_tune_command

    register_tune_command(app)


def create_app() -> typer.Typer:
    """The ``ragsilo`` Typer app with every command (a new one on each call)."""
    app = typer.Typer(
        name="ragsilo",
        help="A retrieval layer for RAG on Milvus: ingest documents, then search them.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.callback()(_main)
    app.command()(init)
    app.command()(ingest)
    app.command()(search)
    app.command()(stats)
    collections_app = typer.Typer(help="List or drop collections.", no_args_is_help=True)
    collections_app.command("list")(collections_list)
    collections_app.command("drop")(collections_drop)
    app.add_typer(collections_app, name="collections")
    app.command()(doctor)
    _register_optional_apps(app)
    return app


app = create_app()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
