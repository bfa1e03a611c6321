"""Word parsing cost: seconds and peak memory for a document of N MB of paragraph XML.

Builds a .docx whose ``word/document.xml`` holds ``--mb`` MB of short
paragraphs (about 90 bytes of XML each), then parses it once with
:class:`~ragsilo.parsers.docx.DocxParser` and prints the time, the growth of
the process's peak resident memory, and paragraphs per second. The budget
``parsing.max_unpacked_mb`` is lifted for the run.

    python bench/bench_docx.py --mb 1
    python bench/bench_docx.py --mb 16
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import time
import zipfile

from ragsilo.parsers.budget import ParseBudget
from ragsilo.parsers.docx import DocxParser

_PARAGRAPH = (
    b"<w:p><w:r><w:t>Compost needs air and water and time to turn into soil.</w:t></w:r></w:p>"
)


def build_docx(mb: float) -> tuple[bytes, int]:
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    source = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    count = int(mb * 1024 * 1024 / len(_PARAGRAPH))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info, source.read(info))
                continue
            head, tail = source.read(info).split(b"<w:body>")
            with z.open("word/document.xml", "w", force_zip64=True) as f:
                f.write(head + b"<w:body>")
                for start in range(0, count, 1000):
                    f.write(_PARAGRAPH * min(1000, count - start))
                f.write(tail)
    return out.getvalue(), count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=1.0, help="MB of paragraph XML")
    args = ap.parse_args()
    data, paragraphs = build_docx(args.mb)
    parser = DocxParser(budget=ParseBudget(max_unpacked_mb=100_000))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    doc = parser.parse(data, "bench.docx")
    seconds = time.perf_counter() - t0
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.mb:g} MB of XML, {paragraphs:,} paragraphs: {seconds:.2f} s "
        f"({paragraphs / seconds:,.0f} paragraphs/s), peak memory +{grown:.0f} MB, "
        f"{len(doc.text):,} characters; load {load:.1f}"
    )


if __name__ == "__main__":
    main()
