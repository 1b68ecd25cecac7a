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


# Raised when a loader reads the same bytes differently (better): files of that type in
# a knowledge base are read again at the next ingest instead of kept as "unchanged".
READER_VERSIONS: dict[str, int] = {".pdf": 2}


def reader_version(path: Path) -> str:
    """What a file's reader adds to its pipeline fingerprint: nothing for a loader never
    revised, so knowledge bases built before it keep their files."""
    version = READER_VERSIONS.get(path.suffix.lower())
    return f":reader-v{version}" if version else ""


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


__all__ = [
    "LOADERS",
    "PAGED_LOADERS",
    "LoaderError",
    "is_supported",
    "load_document",
    "reader_version",
]
