"""``ragsilo recluster``, ``ragsilo clusters`` and ``ragsilo eval``: thin layers over
:class:`ragsilo.Silo` and :mod:`ragsilo.eval`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ragsilo.cli.common import get_state, out_console, run
from ragsilo.cli.output import SNIPPET_CHARS, display_path
from ragsilo.errors import InputError

if TYPE_CHECKING:
    from ragsilo.cluster.recluster import ClusterSummary, ReclusterReport
    from ragsilo.eval.runner import EvalReport
    from ragsilo.rerank.groups import HitGroup

DEFAULT_EVAL_MODES = ("dense", "bm25", "hybrid")


def register_retrieval_commands(app: typer.Typer) -> None:
    """Add the commands to the main ``ragsilo`` app."""
    app.command("recluster")(recluster)
    app.command("clusters")(clusters)
    app.command("eval")(eval_command)


# ----------------------------------------------------------------------- recluster
def recluster(
    ctx: typer.Context,
    k: Annotated[
        int | None, typer.Option("-k", help="Number of clusters (default: clustering.k)")
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Copy the collection afresh even if few chunks change (on Milvus Lite: drops "
            "the old copies of upserted rows, which slow every search)",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Fit k-means to the chunk vectors again and reassign every chunk's cluster."""

    state = get_state(ctx)

    def body() -> None:
        with state.silo() as silo:
            report = silo.recluster(k=k, rebuild=rebuild, progress=_stderr_progress(as_json))
        if as_json:
            out_console().print_json(json.dumps(report.to_dict()))
        else:
            print_recluster(out_console(), report)

    run(body)


# ------------------------------------------------------------------------ clusters
def clusters(
    ctx: typer.Context,
    samples: Annotated[
        int | None,
        typer.Option(
            help="Representative chunks per cluster (default: clustering.representatives)"
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="Show the N largest clusters (0: all)")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Show each cluster's size, keywords and a few representative chunks."""

    state = get_state(ctx)

    def body() -> None:
        if samples is not None and samples < 0:
            raise InputError(f"--samples must be 0 or more, not {samples}")
        if top < 0:
            raise InputError(f"--top must be 0 or more, not {top}")
        with state.silo() as silo:
            summary = silo.clusters(samples=samples)
        shown = summary if top == 0 else summary[:top]
        if as_json:
            out_console().print_json(json.dumps([c.to_dict() for c in shown]))
        else:
            print_clusters(out_console(), shown, total=len(summary))

    run(body)


# ---------------------------------------------------------------------------- eval
def eval_command(
    ctx: typer.Context,
    dataset: Annotated[
        Path, typer.Argument(help="A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/)")
    ],
    modes: Annotated[
        list[str] | None,
        typer.Option(
            "--mode", help="Search mode to score (repeatable; default: all the server has)"
        ),
    ] = None,
    rerankers: Annotated[
        list[str] | None,
        typer.Option("--rerank", help="Reranker to score (repeatable; default: none)"),
    ] = None,
    route: Annotated[int, typer.Option(help="Search only the N nearest clusters (0: all)")] = 0,
    split: Annotated[str, typer.Option(help="The qrels split")] = "test",
    collection: Annotated[
        str | None,
        typer.Option(
            "--eval-collection", help="Collection for the corpus (default: eval_<dataset>)"
        ),
    ] = None,
    limit_docs: Annotated[int | None, typer.Option(help="Use a slice of N documents")] = None,
    limit_queries: Annotated[int | None, typer.Option(help="Use the first N queries")] = None,
    depth: Annotated[int, typer.Option(help="Documents ranked per query (Recall@depth)")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Score retrieval on a BEIR dataset: nDCG@10, Recall@100, MRR@10 and latency per mode and
    reranker. The corpus is ingested into a collection of its own (once; later runs reuse it)."""
    from ragsilo.eval import load_beir, run_eval
    from ragsilo.silo import Silo

    state = get_state(ctx)

    def body() -> None:
        data = load_beir(dataset, split=split, limit_docs=limit_docs, limit_queries=limit_queries)
        settings = state.settings()
        name = collection or _eval_collection_name(data.name, limit_docs)
        settings = settings.model_copy(
            update={"collection": settings.collection.model_copy(update={"name": name})}
        )
        with Silo.open(settings) as silo:
            chosen = list(modes or ())
            if not chosen:
                chosen = [m for m in DEFAULT_EVAL_MODES if m == "dense" or silo.info.bm25]
            report = run_eval(
                silo,
                data,
                modes=chosen,
                rerankers=list(rerankers or ["none"]),
                route=route,
                depth=depth,
                progress=_stderr_progress(as_json),
            )
        if as_json:
            out_console().print_json(json.dumps(report.to_dict()))
        else:
            print_eval(out_console(), report)

    run(body)


def _eval_collection_name(dataset: str, limit_docs: int | None) -> str:
    base = "".join(c if c.isalnum() else "_" for c in dataset.lower()) or "dataset"
    return f"eval_{base}" + (f"_{limit_docs}" if limit_docs else "")


def _stderr_progress(quiet: bool):  # type: ignore[no-untyped-def]
    """A progress callback that writes one line per stage change to stderr on a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    con = Console(stderr=True, highlight=False)
    last: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if last.get(stage) == done:
            return
        last[stage] = done
        con.print(f"{stage}: {done}/{total}", highlight=False)

    return report


# -------------------------------------------------------------------------- output
def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    s = " ".join(text.split())
    if len(s) > limit:
        s = s[: limit - 1].rsplit(" ", 1)[0] + "…"
    return s


def print_recluster(con: Console, r: ReclusterReport) -> None:
    layout = "one partition per cluster" if r.partitioned else "one partition"
    how = "rebuilt" if r.rebuilt else "updated in place"
    con.print(
        f"{r.collection}: {r.rows} chunks in {r.k} clusters ({layout}); "
        f"{r.moved} chunks {how} | {r.algorithm}, {r.iterations} iterations, "
        f"mean distance to centre {r.inertia:.4f} | {r.seconds:.1f}s"
    )


def print_clusters(con: Console, summary: list[ClusterSummary], *, total: int) -> None:
    for c in summary:
        name = "unassigned" if c.cluster_id < 0 else f"cluster {c.cluster_id}"
        words = ", ".join(c.keywords)
        con.print(
            f"[bold]{name}[/bold]  {c.size} chunks"
            + (f"  [cyan]{escape(words)}[/cyan]" if words else "")
        )
        for rep in c.representatives:
            con.print(
                f"   - {escape(display_path(rep['source']))}: {escape(_snippet(rep['text'], 140))}"
            )
    if len(summary) < total:
        con.print(f"({total - len(summary)} smaller clusters not shown; --top 0 shows all)")


def print_groups(con: Console, query: str, groups: list[HitGroup]) -> None:
    if not groups:
        con.print(f"no hits for {escape(query)}")
        return
    for g in groups:
        name = "unassigned" if g.cluster_id < 0 else f"cluster {g.cluster_id}"
        words = f"  [cyan]{escape(', '.join(g.keywords))}[/cyan]" if g.keywords else ""
        con.print(f"[bold]{name}[/bold] (best rank {g.rank}){words}")
        for h in g.hits:
            con.print(
                f"   [cyan]{h.score:.3f}[/cyan]  {escape(display_path(h.source))}: "
                f"{escape(_snippet(h.text, 160))}"
            )


def print_eval(con: Console, report: EvalReport) -> None:
    env = report.environment
    con.print(
        f"{report.dataset}: {report.documents} documents ({report.chunks} chunks, "
        f"{report.chunks_written} written this run in {report.ingest_seconds:.1f}s), "
        f"{report.queries} queries; {env.get('milvus', '')}, index {env.get('index', '')}"
        + (f", {report.clusters} clusters" if report.clusters else "")
    )
    t = Table(show_edge=False)
    for col in ("mode", "rerank", "route", "nDCG@10", "Recall@100", "MRR@10", "p50 ms", "p95 ms"):
        t.add_column(col, justify="left" if col in ("mode", "rerank") else "right")
    for r in report.rows:
        t.add_row(
            r.mode,
            escape(r.rerank),
            str(r.route),
            f"{r.ndcg_at_10:.4f}",
            f"{r.recall_at_100:.4f}",
            f"{r.mrr_at_10:.4f}",
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
        )
    con.print(t)
    con.print(
        f"each search asks for {report.search_k} chunks; "
        f"query embedding p50 {report.embed_p50_ms:.1f} ms (not in the latencies above); "
        f"load average {env.get('load_average')} on {env.get('cpu_cores')} cores"
    )
