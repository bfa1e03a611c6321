"""``ragsilo tune DATASET``: choose the ``retrieval`` settings on your own labelled queries,
cross-validated, and write them to ragsilo.yaml when asked (``--write``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ragsilo.eval.tune import TuneReport


def register_tune_command(app: typer.Typer) -> None:
    """Add ``tune`` to the main ``ragsilo`` app."""
    app.command("tune")(tune)


def tune(
    ctx: typer.Context,
    dataset: Annotated[
        Path,
        typer.Argument(
            help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/), or a CSV of "
            "question,source rows searched in the configured collection"
        ),
    ],
    folds: Annotated[int, typer.Option(help="Cross-validation folds")] = 5,
    split: Annotated[str, typer.Option(help="The qrels split (BEIR)")] = "test",
    collection: Annotated[
        str | None,
        typer.Option(
            "--eval-collection",
            help="Collection for a BEIR corpus (default: eval_<dataset>)",
        ),
    ] = None,
    limit_queries: Annotated[
        int | None, typer.Option(help="Use the first N queries (BEIR)")
    ] = None,
    top: Annotated[int, typer.Option(help="Show the N best settings (0: all)")] = 10,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write the recommended retrieval settings into the settings file "
            "(--config, or ./ragsilo.yaml)",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Score search modes, fusion, weights and cluster_smooth on labelled queries; report each
    setting's gain over the current settings with a 95% interval, cross-validated."""
    from ragsilo.cli.common import DEFAULT_CONFIG
    from ragsilo.cli.common import get_state as _state
    from ragsilo.cli.common import out_console as _out_console
    from ragsilo.cli.common import run as _run
    from ragsilo.errors import InputError

    state = _state(ctx)

    def body() -> None:
        from ragsilo.eval.tune import load_question_csv, run_tune
        from ragsilo.silo import Silo

        if top < 0:
            raise InputError(f"--top must be 0 or more, not {top}")
        settings = state.settings()
        path = dataset.expanduser()
        if path.is_dir():
            from ragsilo.cli.retrieval import _eval_collection_name
            from ragsilo.eval.beir import load_beir
            from ragsilo.eval.runner import prepare_collection
            from ragsilo.eval.tune import LabelledQueries

            data = load_beir(path, split=split, limit_queries=limit_queries)
            labelled = LabelledQueries(data.name, data.queries, data.qrels, by_source=False)
            name = collection or _eval_collection_name(data.name, None)
            settings = settings.model_copy(
                update={"collection": settings.collection.model_copy(update={"name": name})}
            )
        elif path.suffix.lower() == ".csv":
            data = None
            labelled = load_question_csv(path)
        else:
            raise InputError(
                f"{str(path)!r} is neither a BEIR dataset folder nor a .csv file",
                hint="give a folder with corpus.jsonl, queries.jsonl and qrels/, "
                "or a CSV with question,source columns",
            )
        with Silo.open(settings) as silo:
            if data is not None:
                prepare_collection(silo, data)
            report = run_tune(silo, labelled, folds=folds)
        written: Path | None = None
        if write and report.recommended is not None:
            written = write_retrieval(state.config or Path(DEFAULT_CONFIG), report)
        if as_json:
            out = report.to_dict()
            out["written"] = None if written is None else str(written)
            _out_console().print_json(json.dumps(out))
        else:
            print_tune(_out_console(), report, top=top, write=write, written=written)

    _run(body)


def write_retrieval(path: Path, report: TuneReport) -> Path:
    """Merge the recommended settings into ``retrieval:`` of the YAML file at ``path`` (made
    when missing); the result is checked before the file is replaced."""
    import os
    import tempfile

    import yaml

    from ragsilo.errors import InputError
    from ragsilo.settings import load_settings

    rec = report.recommended
    assert rec is not None
    data: dict[str, Any] = {}
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError(f"{str(path)!r} is not a YAML mapping; not writing to it")
        data = loaded or {}
    section = dict(data.get("retrieval") or {})
    section.update(rec.retrieval_section())
    data["retrieval"] = section
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(prefix=".ragsilo-tune-", suffix=".yaml", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_settings(Path(tmp))  # refuse to write settings that would not load
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def print_tune(con: Console, r: TuneReport, *, top: int, write: bool, written: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    con.print(
        f"{escape(r.dataset)}: {r.queries} labelled queries, {len(r.scores)} settings, "
        f"{r.folds}-fold cross-validation; current settings ({escape(r.baseline.label)}) "
        f"nDCG@10 {r.baseline_ndcg:.4f}"
    )
    t = Table(show_edge=False)
    for col in ("setting", "nDCG@10", "gain", "95% interval"):
        t.add_column(col, justify="left" if col == "setting" else "right")
    shown = r.scores if top == 0 else r.scores[:top]
    for s in shown:
        mark = " (current)" if s.setting == r.baseline else ""
        t.add_row(
            escape(s.setting.label) + mark,
            f"{s.ndcg_at_10:.4f}",
            f"{s.gain:+.4f}",
            f"{s.low:+.4f} .. {s.high:+.4f}",
        )
    con.print(t)
    con.print(
        f"held-out gain of tuning ({r.folds} folds): {r.cv_gain:+.4f} "
        f"(95% interval {r.cv_low:+.4f} .. {r.cv_high:+.4f}); folds chose "
        + escape("; ".join(dict.fromkeys(r.fold_choices)))
    )
    for note in r.notes:
        con.print(f"note: {escape(note)}")
    rec = r.recommended
    if rec is None:
        con.print("recommendation: keep the current retrieval settings")
        return
    con.print(f"recommendation: {escape(json.dumps(rec.retrieval_section()))}")
    if written is not None:
        con.print(f"wrote retrieval settings to {escape(str(written))}")
    elif not write:
        con.print("add --write to save them in ragsilo.yaml")
