"""Reading page images (scans, photos of pages) with OCR, once per image.

RapidOCR (PP-OCRv4 Chinese and English models, run by ONNX Runtime) was chosen over
Tesseract: on the same synthetic scan both read 99.7% of the characters right
(benchmarks/bench_ocr.py), and RapidOCR's models come inside its PyPI wheel, so it
installs with pip like everything else, where Tesseract needs system packages.

Results are cached by the image's content hash in the cache folder: a re-ingest, or the
same page in another file, is not read again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENGINE = "rapidocr-onnxruntime-1.4"  # part of the cache key: another engine reads anew
MIN_CONFIDENCE = 0.5  # below this a "line" is mostly a smudge read as characters


@dataclass(frozen=True)
class OcrLine:
    """A line of text found on an image, with its box in pixels (y grows downwards)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


class PageReader:
    """OCR of page images with a result cache; the engine loads on first use."""

    def __init__(self, cache_dir: Path | None, progress: bool = False):
        self.cache_dir = cache_dir / "ocr" if cache_dir else None
        self.progress = progress
        self._engine: Any = None
        self._lock = threading.Lock()

    def read(self, image: Any, label: str = "") -> list[OcrLine]:
        """The lines on a PIL image, top to bottom."""
        png = io.BytesIO()
        image.convert("RGB").save(png, "PNG")
        key = hashlib.sha256(ENGINE.encode() + png.getvalue()).hexdigest()
        cached = self._cached(key)
        if cached is not None:
            return cached
        if self.progress and label:
            print(f"  OCR {label}...", file=sys.stderr, flush=True)
        lines = self._recognise(image)
        self._store(key, lines)
        return lines

    def _recognise(self, image: Any) -> list[OcrLine]:
        import numpy as np

        with self._lock:  # one page at a time: the engine uses both cores already
            if self._engine is None:
                from rapidocr_onnxruntime import RapidOCR

                self._engine = RapidOCR()
            found, _ = self._engine(np.array(image.convert("RGB")))
        lines = []
        for box, text, confidence in found or []:
            if float(confidence) < MIN_CONFIDENCE or not str(text).strip():
                continue
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            lines.append(OcrLine(str(text).strip(), min(xs), min(ys), max(xs), max(ys)))
        return sorted(lines, key=lambda ln: (round(ln.top / 8), ln.left))

    def _cached(self, key: str) -> list[OcrLine] | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.json"
        try:
            return [OcrLine(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError):
            return None

    def _store(self, key: str, lines: list[OcrLine]) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        rows = [ln.__dict__ for ln in lines]
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, ensure_ascii=False)
        os.replace(tmp, self.cache_dir / f"{key}.json")  # atomic: never half a result
