"""Word .docx files: paragraphs in order, headings from their styles ("Heading 2",
"标题 2"), the title from the document properties, tables flattened one cell per line."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from rag.ingest.loaders.base import (
    LoaderError,
    check_zip,
    locate_headings,
    read_bytes,
    tidy_lines,
)
from rag.types import LoadedDocument


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml.etree import LxmlError

    data = read_bytes(path)
    check_zip(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
    except (zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise LoaderError(path, f"cannot read this .docx ({exc}); is it damaged?") from exc
    except AttributeError as exc:  # python-docx meets a part it expects and it is not there
        raise LoaderError(path, "this .docx has no document body; is it damaged?") from exc
    blocks: list[str] = []
    headings: list[tuple[int, str]] = []
    for item in items:
        if isinstance(item, Paragraph):
            blocks.append(item.text)
            level = _heading_level(item)
            if level is not None and item.text.strip():
                headings.append((level, item.text.strip()))
        elif isinstance(item, Table):
            # Same shape as the corpus's flattened tables: one cell a line, blank between.
            cells = [cell.text.strip() for row in item.rows for cell in row.cells]
            blocks.append("\n\n".join(cell for cell in cells if cell))
    text = tidy_lines("\n\n".join(block for block in blocks if block.strip()))
    if not text.strip():
        raise LoaderError(path, "document has no text")
    title = (document.core_properties.title or "").strip()
    return LoadedDocument(
        path=path,
        text=text,
        loader="docx",
        title=title,
        headings=locate_headings(text, headings),
    )


_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)


def _heading_level(paragraph: Any) -> int | None:
    """The level of a heading style; the document's Title style is level 1 too."""
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    if name.lower() == "title" or name == "标题":
        return 1
    match = _HEADING_STYLE.match(name.strip())
    return int(match.group(1)) if match else None
