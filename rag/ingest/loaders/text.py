"""Plain text and Markdown, in UTF-8, GB18030/GBK or UTF-16."""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from rag.ingest.loaders.base import LoaderError, read_bytes, tidy_lines
from rag.types import LoadedDocument

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Refuses bytes that are not text in any encoding we know."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    # A NUL byte never occurs in UTF-8 or GB18030 text: this is a binary file.
    if b"\x00" in data[:8192]:
        raise LoaderError(path, "looks like a binary file, not text (it contains NUL bytes)")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _mostly_printable(text):
            return text, encoding
    best = from_bytes(data).best()
    if best is not None and _mostly_printable(str(best)):
        return str(best), best.encoding
    raise LoaderError(path, "cannot detect the text encoding; save it as UTF-8 and try again")


def _mostly_printable(text: str) -> bool:
    sample = text[:20000]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return bad <= len(sample) * 0.01


def load_text(path: Path) -> LoadedDocument:
    text, encoding = decode_text(path, read_bytes(path))
    text = tidy_lines(text)
    if not text.strip():
        raise LoaderError(path, "file has no text")
    return LoadedDocument(path=path, text=text, loader="text", encoding=encoding)
