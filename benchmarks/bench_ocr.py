"""OCR engines on a synthetic scan: RapidOCR (what rag uses) and Tesseract.

    python benchmarks/bench_ocr.py [--rounds 3]

The page is tests/ingest/loaders/scan_maker.py's: Chinese lines with numbers, rendered
with Noto Sans CJK at 150 dpi, rotated 0.4°, blurred and noisy. Prints, per engine, the
share of characters read right (difflib ratio, whitespace ignored) and seconds per page
(median of the rounds, after one warm-up), with the CPU. Tesseract is measured when
Debian's tesseract-ocr and tesseract-ocr-chi-sim are installed.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.report import cpu_name
from tests.ingest.loaders.scan_maker import SCAN_TEXT, scanned_page


def rapidocr(image: Any) -> str:
    from rag.ingest.ocr import PageReader

    return "".join(line.text for line in PageReader(None).read(image))


def tesseract(image: Any) -> str:
    with tempfile.NamedTemporaryFile(suffix=".png") as tmp:
        image.save(tmp.name)
        return subprocess.run(
            ["tesseract", tmp.name, "-", "-l", "chi_sim+eng"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def measure(read: Callable[[Any], str], image: Any, rounds: int) -> tuple[float, float]:
    read(image)  # warm-up: model loading is not per page
    times, text = [], ""
    for _ in range(rounds):
        t0 = time.perf_counter()
        text = read(image)
        times.append(time.perf_counter() - t0)
    truth = "".join("".join(SCAN_TEXT).split())
    right = difflib.SequenceMatcher(None, truth, "".join(text.split())).ratio()
    return right, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    image = scanned_page()
    print(f"CPU: {cpu_name()}\n")
    print("| engine | characters right | s/page |")
    print("|---|---|---|")
    engines: list[tuple[str, Callable[[Any], str]]] = [("RapidOCR (PP-OCRv4, ONNX)", rapidocr)]
    if shutil.which("tesseract"):
        engines.append(("Tesseract chi_sim+eng", tesseract))
    for name, read in engines:
        right, seconds = measure(read, image, args.rounds)
        print(f"| {name} | {right:.3f} | {seconds:.2f} |")
    if not shutil.which("tesseract"):
        print("(Tesseract not installed: apt-get install tesseract-ocr tesseract-ocr-chi-sim)")


if __name__ == "__main__":
    main()
