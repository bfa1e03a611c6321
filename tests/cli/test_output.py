"""How the CLI prints reports."""

from __future__ import annotations

from rich.console import Console

from ragsilo.cli.output import print_ingest_report
from ragsilo.errors import RetriableStoreError
from ragsilo.ingest.halt import Halt
from ragsilo.models import FileResult, IngestReport


def test_files_a_stopped_ingest_did_not_write_are_one_line() -> None:
    halt = Halt()
    halt.trip(RetriableStoreError("upsert 4 rows into 'docs': Milvus is unavailable or busy"))
    files = (
        FileResult("/d/a.md", "ingested", 3),
        FileResult("/d/b.pdf", "failed", 0, "parse_error", "the PDF is truncated"),
        *(halt.result(f"/d/n{i}.md") for i in range(3)),
    )
    con = Console(record=True, width=300)
    print_ingest_report(con, IngestReport(files, 3, 0, 1.0))
    lines = con.export_text().splitlines()
    assert lines[0] == "failed  /d/b.pdf: the PDF is truncated"
    assert lines[1].startswith("failed  /d/n0.md and 2 more: not written: the ingest stopped")
    assert "run the ingest again when Milvus is back" in lines[1]
    assert lines[2].startswith("files: 1 ingested, 0 unchanged, 4 failed")
    assert len(lines) == 3


def test_crafted_names_cannot_print_a_fake_line_or_an_escape_sequence() -> None:
    from ragsilo.cli.output import print_hits, printable
    from ragsilo.models import Hit

    crafted = "/d/evil\nfiles: 99 ingested\x1b[31m\u202e[bold]x[/bold].txt"
    files = (
        FileResult(crafted, "failed", 0, "parse_error", "bad\r\x07 file\x9b2J"),
        FileResult("/d/bad\udcff.txt", "ingested", 1),
    )
    con = Console(record=True, width=300)
    print_ingest_report(con, IngestReport(files, 1, 0, 1.0))
    text = con.export_text()
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("files: 1 ingested")
    assert lines[0] == (
        "failed  /d/evil\\x0afiles: 99 ingested\\x1b[31m\\u202e[bold]x[/bold].txt: "
        "bad\\x0d\\x07 file\\x9b2J"
    )
    assert not any(ord(c) < 32 and c != "\n" for c in text)
    hit = Hit("1", 0.5, "t", crafted, "T", None, "s\x1b[1A", 0, "d")
    con = Console(record=True, width=300)
    print_hits(con, "q\x1b[2J", [hit])
    shown = con.export_text()
    assert "\x1b" not in shown and len(shown.splitlines()) == 2
    assert printable("bad\udcff\udcfe") == "bad\\xff\\xfe"


def test_files_a_full_disk_stopped_are_one_line() -> None:
    from ragsilo.errors import StoreFullError

    halt = Halt()
    halt.trip(StoreFullError("upsert 9 rows into 'docs': the disk under Milvus is full"))
    files = (
        FileResult("/d/a.md", "ingested", 3),
        *(halt.result(f"/d/n{i}.md") for i in range(5)),
    )
    con = Console(record=True, width=400)
    print_ingest_report(con, IngestReport(files, 3, 0, 1.0))
    lines = con.export_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("failed  /d/n0.md and 4 more: not written: the ingest stopped")
    assert "the disk under Milvus is full" in lines[0] and "free space" in lines[0]
    assert all(f.error_code == "store_full" for f in files[1:])
