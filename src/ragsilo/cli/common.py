"""What every ``ragsilo`` command shares: the global options' state, output consoles, error
handling, confirmation and ``--where`` parsing.

Commands import this module, never each other, and import their heavy modules (Milvus,
numpy, the models) inside the command body, so that ``ragsilo --help`` starts fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ragsilo.errors import InputError, RagsiloError
from ragsilo.redact import install_log_masking

if TYPE_CHECKING:
    from rich.console import Console

    from ragsilo.settings import Settings
    from ragsilo.silo import Silo

T = TypeVar("T")

DEFAULT_CONFIG = "ragsilo.yaml"

# ``--where`` fields that hold a file path: the value the user types is resolved like the
# stored one (absolute), so the relative path the output shows finds its chunks again.
PATH_FIELDS = ("source",)


@dataclass
class State:
    """What the global options say, turned into settings and a silo on demand."""

    config: Path | None
    overrides: dict[str, Any] = field(default_factory=dict)
    verbose: bool = False
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from ragsilo.settings import load_settings

            self._settings = load_settings(self.config, self.overrides)
        return self._settings

    @contextmanager
    def silo(self) -> Iterator[Silo]:
        from ragsilo.silo import Silo

        silo = Silo.open(self.settings())
        try:
            yield silo
        finally:
            silo.close()


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def run(fn: Callable[[], T]) -> T:
    """Run a command body; a RagsiloError becomes one readable line and its exit code."""
    try:
        return fn()
    except RagsiloError as e:
        from ragsilo.cli.output import error_text

        err_console().print(f"[red]error:[/red] {error_text(e)}", highlight=False)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        err_console().print("interrupted")
        raise typer.Exit(130) from None


def confirm(yes: bool, question: str, refusal: str) -> None:
    """Ask before something that cannot be undone; without a terminal, ``--yes`` is needed."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError(f"{refusal} without confirmation", hint="add --yes")
    typer.confirm(question, abort=True)


def get_state(ctx: typer.Context) -> State:
    obj = ctx.obj
    if not isinstance(obj, State):
        # a command run on its own (without the main app's callback): defaults only
        obj = ctx.obj = State(config=default_config())
    return obj


def default_config() -> Path | None:
    """``$RAGSILO_CONFIG``, else ``./ragsilo.yaml`` when it exists."""
    env = os.environ.get("RAGSILO_CONFIG")
    if env:
        return Path(env)
    if Path(DEFAULT_CONFIG).is_file():
        return Path(DEFAULT_CONFIG)
    return None


def configure_logging(verbose: bool) -> None:
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


def parse_where(items: Iterable[str] | None) -> dict[str, list[str]]:
    """``--where field=value`` items as equality filters.

    Sources are stored as absolute paths while the output shows them relative to the working
    directory: a ``source`` value also matches the path it names from here (``samples/a.txt``
    finds ``/home/me/samples/a.txt``), besides the value as typed (a name given to
    ``ingest_texts``).
    """
    from ragsilo.store.filters import parse_where as parse

    filters = parse(items or [])
    for key in PATH_FIELDS:
        if key in filters:
            filters[key] = _with_resolved_paths(filters[key])
    return filters


def _with_resolved_paths(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        candidates = [v]
        if v.strip():
            with suppress(OSError, RuntimeError):
                candidates.append(str(Path(v).expanduser().resolve()))
        for c in candidates:
            if c not in out:
                out.append(c)
    return out
