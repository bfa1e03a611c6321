"""What the user sees is what the user can type: ``--where source=`` takes the path the
output shows, hybrid scores read as a 0..1 relevance, and ``ask --stream`` prints as it goes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ragsilo.cli import common, output
from ragsilo.cli.main import app
from ragsilo.models import Hit
from ragsilo.settings import RetrievalSettings
from ragsilo.silo import Silo

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _hit(source: str, score: float) -> Hit:
    return Hit(
        id="1",
        score=score,
        text="Turn the pile weekly.",
        source=source,
        title="",
        page=None,
        section=None,
        chunk_index=0,
        doc_id="d",
    )


# ------------------------------------------------------------------ --where source=
def test_where_source_also_matches_the_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    absolute = str((tmp_path / "samples" / "a.txt").resolve())
    got = common.parse_where(["source=samples/a.txt", "mime_type=text/plain"])
    assert got == {"source": ["samples/a.txt", absolute], "mime_type": ["text/plain"]}
    # an absolute path (or a name given to ingest_texts that resolves to itself) stays one value
    assert common.parse_where([f"source={absolute}"]) == {"source": [absolute]}
    assert common.parse_where(None) == {}


@pytest.mark.lite
@pytest.mark.embed
def test_search_ask_delete_find_the_source_the_output_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "samples").mkdir()
    for name in ("compost-faq.txt", "composting-basics.md"):
        shutil.copy(SAMPLES / name, tmp_path / "samples" / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    runner = CliRunner()

    def run(*args: str):
        res = runner.invoke(app, ["--uri", "u.db", *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    run("ingest", "samples")
    shown = run("search", "compost", "-k", "20")
    assert "samples/compost-faq.txt" in shown  # the output shows the path relative to here

    hits = json.loads(
        run("search", "compost", "--where", "source=samples/compost-faq.txt", "--json")
    )
    assert hits and {h["source"] for h in hits} == {
        str(tmp_path.resolve() / "samples/compost-faq.txt")
    }
    hits = json.loads(
        run("search", "compost", "--where", "source=./samples/../samples/compost-faq.txt", "--json")
    )
    assert hits
    answer = json.loads(
        run("ask", "what is compost", "--where", "source=samples/compost-faq.txt", "--json")
    )
    assert answer["citations"]
    assert all(c["source"].endswith("compost-faq.txt") for c in answer["citations"])
    out = run("delete", "--where", "source=samples/compost-faq.txt", "--yes")
    assert out.startswith("deleted ") and not out.startswith("deleted 0 ")


# ------------------------------------------------------------------ hybrid scores
def test_rrf_scores_print_as_relevance_with_a_footnote() -> None:
    settings = RetrievalSettings()
    scale = output.rrf_scale("hybrid", "none", settings)
    assert scale is not None
    w = settings.weights
    best = (w["dense"] + w["bm25"]) / (settings.rrf_k + 1)  # first in both lists
    first_in_one = w["dense"] / (settings.rrf_k + 1)
    assert best * scale == pytest.approx(1.0)
    con = Console(record=True, width=200)
    hits = [_hit("/x/a.txt", best), _hit("/x/b.txt", first_in_one)]
    output.print_hits(con, "q", hits, rrf_scale=scale)
    text = con.export_text()
    assert "1. 1.000" in text and "2. 0.500" in text
    assert "0.016" not in text and "0.008" not in text
    assert "rank fusion" in text and "--json" in text
    # other modes, a reranker, or weighted fusion keep their own scores
    assert output.rrf_scale("dense", "none", settings) is None
    assert output.rrf_scale("hybrid", "mmr", settings) is None
    weighted = settings.model_copy(update={"fusion": "weighted"})
    assert output.rrf_scale("hybrid", "none", weighted) is None


@pytest.mark.lite
@pytest.mark.embed
def test_hybrid_search_output_is_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    shutil.copy(SAMPLES / "compost-faq.txt", tmp_path / "faq.txt")
    runner = CliRunner()
    res = runner.invoke(app, ["--uri", "h.db", "ingest", "faq.txt"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["--uri", "h.db", "search", "how hot does a compost pile get", "--mode", "hybrid"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    scores = [float(line.split()[1]) for line in res.output.splitlines() if line[:1].isdigit()]
    assert scores and 0.5 <= scores[0] <= 1.0 and all(0 < s <= 1 for s in scores)
    assert len(set(scores)) > 1 and "rank fusion" in res.output


# ------------------------------------------------------------------ ask --stream
class _StreamedAnswer:
    def __init__(self, pieces: list[str], citations: list[Hit], seen: list[str]) -> None:
        self._pieces = pieces
        self.citations = citations
        self._seen = seen

    def __iter__(self) -> Iterator[str]:
        import sys

        for piece in self._pieces:
            yield piece
            # by the time the next piece is asked for, this one is on stdout already
            self._seen.append(sys.stdout.buffer.getvalue().decode())  # type: ignore[attr-defined]


def test_ask_stream_prints_pieces_as_they_come(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, object]]] = []
    seen: list[str] = []
    citation = _hit(str(Path("samples/compost-faq.txt").resolve()), 0.9)

    class FakeSilo:
        def ask_stream(self, question: str, **kwargs: object) -> _StreamedAnswer:
            calls.append((question, kwargs))
            return _StreamedAnswer(["Compost ", "heats up ", "[1]."], [citation], seen)

    @contextmanager
    def fake_silo(self: common.State) -> Iterator[FakeSilo]:
        yield FakeSilo()

    monkeypatch.setattr(common.State, "silo", fake_silo)
    res = CliRunner().invoke(
        app,
        ["ask", "why does compost heat up", "--stream", "-k", "3", "--where", "page=2"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == "Compost heats up [1]."
    assert f"[1] {citation.source}" in res.output
    assert seen[0].endswith("Compost ") and seen[1].endswith("Compost heats up ")
    question, kwargs = calls[0]
    assert question == "why does compost heat up"
    assert kwargs == {
        "k": 3,
        "where": {"page": ["2"]},
        "filter": None,
        "consistency_level": None,
        "tenant": None,
    }


def test_ask_stream_and_json_together_is_refused() -> None:
    res = CliRunner().invoke(app, ["ask", "q", "--stream", "--json"])
    assert res.exit_code == 2 and "--stream" in res.output


@pytest.mark.lite
@pytest.mark.embed
@pytest.mark.skipif(not hasattr(Silo, "ask_stream"), reason="Silo.ask_stream is not here yet")
def test_ask_stream_on_lite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    shutil.copy(SAMPLES / "compost-faq.txt", tmp_path / "faq.txt")
    runner = CliRunner()
    res = runner.invoke(app, ["--uri", "s.db", "ingest", "faq.txt"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    args = ["--uri", "s.db", "ask", "how hot does a compost pile get"]
    plain = runner.invoke(app, args, catch_exceptions=False)
    streamed = runner.invoke(app, [*args, "--stream"], catch_exceptions=False)
    assert streamed.exit_code == 0, streamed.output
    assert " ".join(streamed.output.split()) == " ".join(plain.output.split())
    assert "[1] " in streamed.output and "faq.txt" in streamed.output


def test_state_without_the_main_callback_uses_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGSILO_CONFIG", raising=False)
    ctx = SimpleNamespace(obj=None)
    state = common.get_state(ctx)  # type: ignore[arg-type]
    assert isinstance(state, common.State) and state.config is None and ctx.obj is state
