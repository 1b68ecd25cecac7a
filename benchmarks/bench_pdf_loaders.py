"""PDF text: pypdf's extract_text (the loader before) against rag's PDFium loader.

    python benchmarks/bench_pdf_loaders.py [--copies 20]

On the test suite's manual (tests/ingest/loaders/pdf_maker.py: running header and
footer, contents page, outline, wrapped and hyphenated lines, a paragraph over a page
break, a ligature, a table, code with a continuation mark), repeated `--copies` times
into one PDF, it counts what a reader would see: body sentences that come out whole,
code lines and table rows intact, header/footer/contents lines left in; and the time per
page (median of 3). Prints the CPU.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.report import cpu_name
from tests.ingest.loaders.pdf_maker import Manual, write_manual_pdf


def repeated(manual_pdf: Path, copies: int, out: Path) -> int:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for _ in range(copies):
        for page in PdfReader(manual_pdf).pages:
            writer.add_page(page)
    writer.add_metadata({"/Title": "星河数据平台用户手册"})
    with out.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def old_loader(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n\n".join(page.extract_text() or "" for page in reader.pages)


def new_loader(path: Path) -> str:
    from rag.ingest.loaders.pdf import load_pdf

    return load_pdf(path).text


def score(text: str, manual: Manual) -> dict[str, str]:
    squeezed_text = "".join(text.split())
    sentences = sum(s in text for s, _ in manual.sentences)
    code = sum(c in text for c in manual.code)
    rows = sum(r in text for r in manual.rows)
    furniture = sum("".join(f.split()) in squeezed_text for f in manual.furniture)
    return {
        "sentences whole": f"{sentences}/{len(manual.sentences)}",
        "code lines intact": f"{code}/{len(manual.code)}",
        "table rows intact": f"{rows}/{len(manual.rows)}",
        "furniture left in": f"{furniture}/{len(manual.furniture)}",
    }


def ms_per_page(load: Callable[[Path], str], path: Path, pages: int) -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        load(path)
        times.append((time.perf_counter() - t0) * 1000 / pages)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        single = Path(tmp) / "manual.pdf"
        manual = write_manual_pdf(single)
        big = Path(tmp) / "big.pdf"
        pages = repeated(single, args.copies, big)
        print(f"CPU: {cpu_name()}; {pages} pages ({args.copies} copies of the manual)\n")
        print(
            "| loader | sentences whole | code lines intact | table rows intact |"
            " furniture left in | ms/page |"
        )
        print("|---|---|---|---|---|---|")
        for name, load in (("pypdf extract_text", old_loader), ("rag PDFium", new_loader)):
            found = score(load(single), manual)
            speed = ms_per_page(load, big, pages)
            print(f"| {name} | " + " | ".join(found.values()) + f" | {speed:.1f} |")


if __name__ == "__main__":
    main()
