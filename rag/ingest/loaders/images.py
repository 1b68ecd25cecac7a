"""Images of pages (PNG, JPEG, TIFF with one page a frame), read by OCR. Their lines are
joined as a PDF's are (see pdf.compose); each image or frame is a page."""

from __future__ import annotations

import io
from pathlib import Path

from rag.ingest.loaders.base import LoaderError, read_bytes
from rag.ingest.loaders.pdf import PageLine, compose, lines_from_ocr
from rag.ingest.ocr import PageReader
from rag.types import LoadedDocument

MAX_PIXELS = 60_000_000  # a 600 dpi A3 scan; beyond it an image is a bomb, not a page
MAX_FRAMES = 500


def load_image(path: Path, ocr: PageReader | None = None) -> LoadedDocument:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if ocr is None:
        raise LoaderError(path, "an image is read by OCR, and OCR is off (RAG_OCR=false)")
    data = read_bytes(path)
    pages: list[list[PageLine]] = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            for n, frame in enumerate(ImageSequence.Iterator(image)):
                if n >= MAX_FRAMES:
                    raise LoaderError(path, f"more than {MAX_FRAMES} pages; split the file")
                if frame.width * frame.height > MAX_PIXELS:
                    raise LoaderError(
                        path, f"{frame.width}x{frame.height} pixels is too large for a page"
                    )
                page = frame.convert("RGB")
                found = ocr.read(page, f"{path.name} page {n + 1}")
                pages.append(lines_from_ocr(found, n, page.height, 1.0))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise LoaderError(path, f"cannot read this image ({exc}); is it damaged?") from exc
    text, page_starts, _ = compose(pages)
    if not text.strip():
        raise LoaderError(path, "OCR found no text on this image")
    return LoadedDocument(
        path=path,
        text=text,
        loader="image",
        pages=page_starts,
        ocr_pages=tuple(range(1, len(pages) + 1)),
    )
