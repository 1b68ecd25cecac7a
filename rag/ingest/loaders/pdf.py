"""PDF files with a text layer (scanned PDFs need OCR first)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from rag.ingest.loaders.base import LoaderError, read_bytes, tidy_lines
from rag.types import LoadedDocument


class _Complaints(logging.Handler):
    """What pypdf logs while it reads: a damaged content stream is logged, not raised."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = read_bytes(path)
    pypdf_log = logging.getLogger("pypdf")
    complaints = _Complaints()
    pypdf_log.addHandler(complaints)
    pypdf_log.setLevel(logging.WARNING)
    pypdf_log.propagate = False  # to our report, not to the terminal
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoaderError(path, "PDF is encrypted; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoaderError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoaderError(path, f"cannot read this PDF ({exc}); is it damaged?") from exc
    finally:
        pypdf_log.removeHandler(complaints)
    text = tidy_lines("\n\n".join(pages))
    if not text.strip():
        if complaints.messages:
            raise LoaderError(
                path,
                f"the PDF's page contents cannot be decoded ({complaints.messages[0][:120]});"
                " is it damaged? Re-export or print it to a new PDF",
            )
        raise LoaderError(
            path, "PDF has no text layer (a scan?); run OCR on it first, then ingest again"
        )
    return LoadedDocument(path=path, text=text, loader="pdf")
