"""HTML pages: visible text only, block elements on their own lines."""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.loaders.base import LoaderError, read_bytes, tidy_lines
from rag.ingest.loaders.text import decode_text
from rag.types import LoadedDocument

_INVISIBLE = ["script", "style", "noscript", "template", "head", "svg"]


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    markup, encoding = decode_text(path, read_bytes(path))
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(_INVISIBLE):
        tag.decompose()
    text = soup.get_text("\n")
    text = re.sub(r"[ \t\u3000]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = tidy_lines(text)
    if not text.strip():
        raise LoaderError(path, "page has no visible text")
    return LoadedDocument(path=path, text=text, loader="html", encoding=encoding)
