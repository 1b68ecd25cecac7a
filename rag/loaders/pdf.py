"""PDF files with a text layer (scanned PDFs need OCR first)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from rag.loaders.base import LoaderError, read_bytes, tidy_lines
from rag.schema import LoadedDocument


def load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = read_bytes(path)
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoaderError(path, "PDF is encrypted; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoaderError(path, f"cannot read this PDF ({exc}); is it damaged?") from exc
    text = tidy_lines("\n\n".join(pages))
    if not text.strip():
        raise LoaderError(
            path, "PDF has no text layer (a scan?); run OCR on it first, then ingest again"
        )
    return LoadedDocument(path=path, text=text, loader="pdf")
