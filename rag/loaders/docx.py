"""Word .docx files: paragraphs in order, tables flattened one cell per line."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rag.loaders.base import LoaderError, read_bytes, tidy_lines
from rag.schema import LoadedDocument


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    data = read_bytes(path)
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoaderError(path, f"cannot read this .docx ({exc}); is it damaged?") from exc
    blocks: list[str] = []
    for item in document.iter_inner_content():
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
