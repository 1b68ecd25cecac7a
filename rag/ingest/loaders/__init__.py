"""Turn a file into text, choosing the loader by the file's extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.ingest.loaders.base import LoaderError
from rag.ingest.loaders.docx import load_docx
from rag.ingest.loaders.html import load_html
from rag.ingest.loaders.images import load_image
from rag.ingest.loaders.markdown import load_markdown
from rag.ingest.loaders.odt import load_odt
from rag.ingest.loaders.pdf import load_pdf
from rag.ingest.loaders.sheets import load_csv, load_xlsx
from rag.ingest.loaders.slides import load_pptx
from rag.ingest.loaders.text import load_text
from rag.ingest.ocr import PageReader
from rag.types import LoadedDocument

LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
    ".xlsx": load_xlsx,
    ".csv": load_csv,
    ".pptx": load_pptx,
    ".odt": load_odt,
}
# Formats whose pages may be images, read by OCR when a PageReader is given
PAGED_LOADERS: dict[str, Callable[[Path, PageReader | None], LoadedDocument]] = {
    ".pdf": load_pdf,
    ".png": load_image,
    ".jpg": load_image,
    ".jpeg": load_image,
    ".tif": load_image,
    ".tiff": load_image,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS or path.suffix.lower() in PAGED_LOADERS


def load_document(path: Path, ocr: PageReader | None = None) -> LoadedDocument:
    suffix = path.suffix.lower()
    if suffix in PAGED_LOADERS:
        return PAGED_LOADERS[suffix](path, ocr)
    loader = LOADERS.get(suffix)
    if loader is None:
        supported = ", ".join(sorted([*LOADERS, *PAGED_LOADERS]))
        raise LoaderError(path, f"unsupported file type {path.suffix or '(none)'}; use {supported}")
    return loader(path)


__all__ = ["LOADERS", "PAGED_LOADERS", "LoaderError", "is_supported", "load_document"]
