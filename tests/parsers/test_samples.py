"""The bundled sample documents: every one parses, and together they make a useful demo set."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from ragsilo.parsers import parse_bytes
from ragsilo.sources import iter_source_files

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_samples", ROOT / "scripts" / "make_samples.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_paths() -> list[Path]:
    return [entry.path for entry in iter_source_files([SAMPLES]) if entry.ok]


def test_every_format_is_represented() -> None:
    suffixes = {p.suffix for p in sample_paths()}
    assert {".md", ".html", ".pdf", ".docx", ".csv", ".json", ".txt"} <= suffixes


@pytest.mark.parametrize("path", sample_paths(), ids=lambda p: p.name)
def test_each_sample_parses(path: Path) -> None:
    doc = parse_bytes(path.read_bytes(), str(path))
    assert doc.sections
    assert len(doc.text.split()) > 150


def test_the_set_is_a_few_thousand_words() -> None:
    words = sum(len(parse_bytes(p.read_bytes(), str(p)).text.split()) for p in sample_paths())
    assert 3000 <= words <= 5000


def test_sample_structure_survives_parsing() -> None:
    pdf = parse_bytes((SAMPLES / "compost-troubleshooting.pdf").read_bytes(), "t.pdf")
    assert [s.page for s in pdf.sections] == [1, 2, 3, 4]
    assert pdf.title == "Compost Troubleshooting Guide"

    docx = parse_bytes((SAMPLES / "composting-methods.docx").read_bytes(), "m.docx")
    assert "Composting Methods Compared > Vermicomposting > Feeding" in {
        s.heading for s in docx.sections
    }
    assert "Method: Bokashi; Time to finished compost: 2 weeks" in docx.text

    html = parse_bytes((SAMPLES / "soil-food-web.html").read_bytes(), "w.html")
    assert "cookies" not in html.text and "All rights reserved" not in html.text
    assert "Popular articles" not in html.text
    assert "Mycorrhizal fungi live in partnership with plant roots" in html.text

    csv = parse_bytes((SAMPLES / "compost-materials.csv").read_bytes(), "m.csv")
    straw = next(s for s in csv.sections if s.metadata.get("material") == "Straw")
    assert straw.metadata["typical_cn_ratio"] == "50-150"

    nutrients = parse_bytes((SAMPLES / "soil-nutrients.json").read_bytes(), "n.json")
    iron = next(s for s in nutrients.sections if s.metadata.get("symbol") == "Fe")
    assert iron.metadata["mobile_in_plant"] is False


def test_generated_samples_are_reproducible_and_current() -> None:
    pytest.importorskip("reportlab")
    pytest.importorskip("docx")
    script = load_script()
    pdf, docx = script.build_pdf(), script.build_docx()
    assert pdf == script.build_pdf() and docx == script.build_docx()
    for built, name in ((pdf, "compost-troubleshooting.pdf"), (docx, "composting-methods.docx")):
        committed = parse_bytes((SAMPLES / name).read_bytes(), name)
        assert parse_bytes(built, name).text == committed.text, (
            f"rerun scripts/make_samples.py ({name})"
        )
