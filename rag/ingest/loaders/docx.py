"""Word .docx files: paragraphs in order, tables flattened one cell per line."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rag.ingest.loaders.base import LoaderError, check_zip, read_bytes, tidy_lines
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
    for item in items:
        if isinstance(item, Paragraph):
            blocks.append(item.text)
        elif isinstance(item, Table):
            # Same shape as the corpus's flattened tables: one cell a line, blank between.
            cells = [cell.text.strip() for row in item.rows for cell in row.cells]
            blocks.append("\n\n".join(cell for cell in cells if cell))
    text = tidy_lines("\n\n".join(block for block in blocks if block.strip()))
    if not text.strip():
        raise LoaderError(path, "document has no text")
    return LoadedDocument(path=path, text=text, loader="docx")
