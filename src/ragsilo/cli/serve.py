"""``ragsilo serve`` (the HTTP service) and ``ragsilo keys`` (its API keys).

The commands read the settings the global options chose (``--config``,
``--uri`` ...). FastAPI and uvicorn are imported only when the service
starts, so the rest of the CLI works without the ``http`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ragsilo.cli.output import error_text, shown
from ragsilo.errors import ConfigError, MissingDependencyError, RagsiloError

if TYPE_CHECKING:
    from ragsilo.settings import Settings

T = TypeVar("T")

keys_app = typer.Typer(
    help="Create, list and revoke the HTTP service's API keys.", no_args_is_help=True
)


def _settings(ctx: typer.Context) -> Settings:
    """The settings the global options describe (or the defaults, outside the main app)."""
    from ragsilo.settings import Settings, load_settings

    state = ctx.find_root().obj
    getter = getattr(state, "settings", None)
    if callable(getter):
        settings = getter()
        assert isinstance(settings, Settings)
        return settings
    return load_settings()


def _run(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except RagsiloError as e:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[red]error:[/red] {error_text(e)}"
        )
        raise typer.Exit(e.exit_code) from None


# -------------------------------------------------------------------------- serve
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default service.host, 127.0.0.1)"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default service.port, 8000)")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning or error (default service.log_level)")
    ] = None,
) -> None:
    """Run the HTTP service: search, ingest and ask over HTTP, a web page at /, JSON logs."""

    def body() -> tuple[Any, Any, str, int, str]:
        try:
            import uvicorn

            from ragsilo.service.app import create_app
            from ragsilo.service.logging import configure_json_logging
        except ImportError as e:
            raise MissingDependencyError(e.name or "fastapi", "http", "the HTTP service") from e
        from pydantic import ValidationError

        from ragsilo.settings import _describe as describe_validation_error

        settings = _settings(ctx)
        overrides = {"host": host, "port": port, "log_level": log_level}
        try:
            service = type(settings.service).model_validate(
                {
                    **settings.service.model_dump(),
                    **{k: v for k, v in overrides.items() if v is not None},
                }
            )
        except ValidationError as e:
            raise ConfigError(describe_validation_error(e)) from None
        settings = settings.model_copy(update={"service": service})
        configure_json_logging(service.log_level)
        return uvicorn, create_app(settings), service.host, service.port, service.log_level

    uvicorn, app, bind_host, bind_port, level = _run(body)
    uvicorn.run(
        app,
        host=bind_host,
        port=bind_port,
        log_config=None,
        log_level=level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


# --------------------------------------------------------------------------- keys
def _key_file(ctx: typer.Context, file: Path | None) -> Any:
    from ragsilo.service.auth import KeyFile

    return KeyFile(file if file is not None else _settings(ctx).service.api_keys_file)


FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="Key file (default service.api_keys_file)"),
]


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who or what the key is for")],
    role: Annotated[str, typer.Option(help="read, write or admin")] = "read",
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    tenant: Annotated[
        str | None,
        typer.Option(help="Bind the key to this tenant: it may act on no other"),
    ] = None,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""

    def body() -> None:
        key_file = _key_file(ctx, file)
        key, record = key_file.create(name, role, tenant=tenant)
        out = Console(highlight=False, soft_wrap=True)
        if as_json:
            out.print_json(json.dumps({"key": key, **record.public()}))
            return
        out.print(key)
        Console(stderr=True, highlight=False).print(
            f"created key {record.id} ({shown(record.name)}, role {record.role}"
            + (f", tenant {escape(record.tenant)}" if record.tenant else "")
            + ") in "
            f"{escape(str(key_file.path))}; store the key now, it cannot be shown again"
        )

    _run(body)


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """List the keys (ids, names, roles and state; never the keys themselves)."""

    def body() -> None:
        records = _key_file(ctx, file).load()
        out = Console(highlight=False, soft_wrap=True)
        if as_json:
            out.print_json(json.dumps([r.public() for r in records]))
            return
        if not records:
            out.print("(no keys)")
            return
        table = Table("id", "name", "role", "tenant", "created", "state")
        for r in records:
            state = "active" if r.active else f"revoked {r.revoked_at}"
            tenant = escape(r.tenant) if r.tenant else "(any)"
            table.add_row(r.id, shown(r.name), r.role, tenant, r.created_at, state)
        out.print(table)

    _run(body)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id (from `ragsilo keys list`)")],
    file: FileOption = None,
) -> None:
    """Revoke a key: the service refuses it from its next request on."""

    def body() -> None:
        record = _key_file(ctx, file).revoke(key_id)
        Console(highlight=False).print(f"revoked {record.id} ({shown(record.name)})")

    _run(body)
