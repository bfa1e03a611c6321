"""PDF text extraction: PDFium (pypdfium2) against pypdf, on a generated text PDF.

Builds a deterministic PDF of ``--pages`` pages of running text (reportlab,
about 50 lines and 3,500 characters a page, like a dense report), then parses
it ``--repeats`` times with :class:`~ragsilo.parsers.pdf.PdfParser` on each
engine and prints the median and best wall time, pages per second, and
whether both engines gave the same text. The parse includes what both engines
share: pypdf opening the file, the page and content-stream budget checks, and
the title.

    python bench/bench_pdf.py
    python bench/bench_pdf.py --pages 36 --repeats 5
    python bench/bench_pdf.py --file samples/compost-troubleshooting.pdf
    python bench/bench_pdf.py --heavy-mb 1 2 4 --repeats 1

``--heavy-mb`` times instead one page whose content stream decodes to that
many MB of text-showing operators (the shape of the crafted PDFs that the
``parsing.max_page_content_mb`` budget stops), with the budget lifted.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import time
import zlib
from pathlib import Path

from ragsilo.parsers.budget import ParseBudget
from ragsilo.parsers.pdf import PdfParser, pdfium_available

_WORDS = """
compost pile heat microbes nitrogen carbon browns greens water air turn weekly
temperature oxygen moisture leaves straw grass manure worms fungi bacteria soil
humus structure texture smell ammonia sulfur layer bin heap garden kitchen scraps
mature finished sieve mulch nutrients potassium phosphorus decomposition cure time
""".split()  # noqa: SIM905


def build_pdf(pages: int, seed: int = 7, *, font: str = "embedded", ascii85: bool = False) -> bytes:
    """Flate-compressed pages, as Word, LaTeX and browsers write them.

    ``font``: "embedded" embeds a TrueType subset (Bitstream Vera, shipped with
    reportlab) as office programs do; "standard" uses Helvetica, one of the 14
    fonts a reader must know, which pypdf reads fastest. ``ascii85``: ASCII85
    on top (reportlab's default), which pypdf decodes in pure Python.
    """
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    rl_config.useA85 = 1 if ascii85 else 0
    regular, bold = "Helvetica", "Helvetica-Bold"
    if font == "embedded":
        pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
        pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
        regular, bold = "Vera", "VeraBd"
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pdf.setTitle("Benchmark report")
    for number in range(1, pages + 1):
        pdf.setFont(bold, 14)
        pdf.drawString(56, 800, f"Section {number}: notes on the heap")
        pdf.setFont(regular, 9)
        y = 780
        for _ in range(52):
            line = " ".join(rng.choice(_WORDS) for _ in range(12)).capitalize() + "."
            pdf.drawString(56, y, line)
            y -= 14
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def heavy_page_pdf(mb: float) -> bytes:
    """One page drawing ``mb`` MB of short text runs, Flate-compressed, written by hand."""
    line = b"1 0 0 1 72 700 Tm (lorem ipsum dolor sit amet) Tj\n"
    content = b"BT /F1 10 Tf\n" + line * int(mb * 1024 * 1024 / len(line)) + b"ET"
    packed = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def heavy(sizes: list[float], repeats: int) -> None:
    budget = ParseBudget(max_page_content_mb=1024)
    print("| content stream MB | pypdf s | PDFium s |")
    print("|---:|---:|---:|")
    for mb in sizes:
        data = heavy_page_pdf(mb)
        row = []
        for engine in ("pypdf", "pdfium"):
            parser = PdfParser(engine=engine, budget=budget)  # type: ignore[arg-type]
            row.append(min(timed(parser, data, repeats)[0]))
        print(f"| {mb:g} | {row[0]:.2f} | {row[1]:.2f} |")


def timed(parser: PdfParser, data: bytes, repeats: int) -> tuple[list[float], str]:
    times, text = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        doc = parser.parse(data, "bench.pdf")
        times.append(time.perf_counter() - t0)
        text = doc.text
    return times, text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=36)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--font", choices=("embedded", "standard"), default="embedded")
    ap.add_argument("--file", type=Path, help="time this PDF instead of a generated one")
    ap.add_argument("--ascii85", action="store_true", help="ASCII85-encode the page streams too")
    ap.add_argument("--heavy-mb", type=float, nargs="+", help="time one heavy page of these sizes")
    args = ap.parse_args()
    if not pdfium_available():
        raise SystemExit('pypdfium2 is not installed: pip install "ragsilo[pdf]"')
    if args.heavy_mb:
        heavy(args.heavy_mb, args.repeats)
        return

    if args.file is not None:
        data = args.file.read_bytes()
        what = f"{args.file.name}"
    else:
        data = build_pdf(args.pages, font=args.font, ascii85=args.ascii85)
        what = f"generated, {args.font} font"
    pages = PdfParser().parse(data, "count.pdf").metadata["pages"]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"{pages} pages ({what}), {len(data) / 1e6:.2f} MB, {args.repeats} repeats; "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load {load[0]:.1f}"
    )
    results = {}
    for engine in ("pypdf", "pdfium"):
        parser = PdfParser(engine=engine)  # type: ignore[arg-type]
        parser.parse(data, "warm-up.pdf")
        times, text = timed(parser, data, args.repeats)
        results[engine] = (statistics.median(times), min(times), text)

    print("| engine | median s | best s | pages/s (median) | characters |")
    print("|---|---:|---:|---:|---:|")
    for engine, (median, best, text) in results.items():
        print(f"| {engine} | {median:.3f} | {best:.3f} | {pages / median:.0f} | {len(text):,} |")
    speedup = results["pypdf"][0] / results["pdfium"][0]
    same = results["pypdf"][2] == results["pdfium"][2]
    print(f"PDFium is {speedup:.1f}x faster (median); same text from both: {same}")


if __name__ == "__main__":
    main()
