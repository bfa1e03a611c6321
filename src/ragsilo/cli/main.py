"""The ``ragsilo`` command line: a thin layer over :class:`ragsilo.Silo`."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from ragsilo.cli import output
from ragsilo.cli.config_template import CONFIG_TEMPLATE
from ragsilo.errors import InputError, RagsiloError
from ragsilo.redact import install_log_masking
from ragsilo.rerank import group_by_cluster
from ragsilo.settings import Settings, load_settings
from ragsilo.silo import Silo
from ragsilo.store import parse_where

T = TypeVar("T")

app = typer.Typer(
    name="ragsilo",
    help="A retrieval layer for RAG on Milvus: ingest documents, then search them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
collections_app = typer.Typer(help="List or drop collections.", no_args_is_help=True)
app.add_typer(collections_app, name="collections")

DEFAULT_CONFIG = "ragsilo.yaml"


@dataclass
class _State:
    """What the global options say, turned into settings and a silo on demand."""

    config: Path | None
    overrides: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, self.overrides)
        return self._settings

    @contextmanager
    def silo(self) -> Iterator[Silo]:
        silo = Silo.open(self.settings())
        try:
            yield silo
        finally:
            silo.close()


def _err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _out_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _run(fn: Callable[[], T]) -> T:
    """Run a command body; a RagsiloError becomes one readable line and its exit code."""
    try:
        return fn()
    except RagsiloError as e:
        _err_console().print(f"[red]error:[/red] {output.error_text(e)}", highlight=False)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        _err_console().print("interrupted")
        raise typer.Exit(130) from None


@app.callback()
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
) -> None:
    if config is None:
        env = os.environ.get("RAGSILO_CONFIG")
        if env:
            config = Path(env)
        elif Path(DEFAULT_CONFIG).is_file():
            config = Path(DEFAULT_CONFIG)
    overrides = {
        "milvus": {"uri": uri, "token": token, "db_name": db_name},
        "collection": {"name": collection},
    }
    _configure_logging(verbose)
    ctx.obj = _State(config=config, overrides=overrides, verbose=verbose)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pymilvus logs every failed RPC with a traceback, and Milvus Lite's in-process gRPC
    # server logs the calls it does not implement; ragsilo reports errors itself.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    # Milvus Lite logs each failed call with a traceback (every write, when the disk is full)
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
    install_log_masking()  # a login inside a Milvus URI never reaches the log


def _confirm(yes: bool, question: str, refusal: str) -> None:
    """Ask before something that cannot be undone; without a terminal, ``--yes`` is needed."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError(f"{refusal} without confirmation", hint="add --yes")
    typer.confirm(question, abort=True)


def _state(ctx: typer.Context) -> _State:
    state = ctx.obj
    assert isinstance(state, _State)
    return state


# --------------------------------------------------------------------------- init
@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the file")] = Path(DEFAULT_CONFIG),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented configuration file with every setting and its default."""

    def body() -> None:
        if path.exists() and not force:
            raise InputError(f"{path} already exists", hint="use --force to overwrite it")
        path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        load_settings(path)  # the template must always be valid
        _out_console().print(f"wrote {path}")

    _run(body)


# ------------------------------------------------------------------------- ingest
@app.command()
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
@app.command()
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
            help="none | cluster_distance | cluster_size | centroid_query | mmr | "
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
        filters = parse_where(where or [])
        with state.silo() as silo:
            result = silo.retrieve(
                query,
                k=k,
                where=filters,
                filter=filter_expr,
                output_fields=output_fields,
                consistency_level=consistency,
                mode=mode,
                rerank=rerank,
                route=route,
                tenant=tenant,
            )
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
            output.print_hits(_out_console(), query, result.hits)

    _run(body)


# -------------------------------------------------------------------------- stats
@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show the collection's size, index and load state."""
    state = _state(ctx)

    def body() -> None:
        with state.silo() as silo:
            s = silo.stats()
            info = silo.info
        if as_json:
            _out_console().print_json(json.dumps({**s.to_dict(), "server": info.to_dict()}))
        else:
            output.print_stats(_out_console(), s, info)

    _run(body)


# -------------------------------------------------------------------- collections
@collections_app.command("list")
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


@collections_app.command("drop")
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
@app.command()
def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Check the connection: server kind, version, capabilities, and a full round trip."""
    state = _state(ctx)

    def body() -> bool:
        with state.silo() as silo:
            report = silo.doctor()
        if as_json:
            _out_console().print_json(json.dumps(report.to_dict()))
        else:
            output.print_doctor(_out_console(), report)
        return report.ok

    ok = _run(body)
    raise typer.Exit(0 if ok else 5)


def _register_optional_apps() -> None:
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


_register_optional_apps()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
