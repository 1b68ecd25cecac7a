"""OpenDocument text (.odt, LibreOffice Writer): headings with their outline level,
paragraphs and list items in order, tables as records, the title from the metadata.
Read straight from the file's XML (content.xml, meta.xml); the generated table of
contents is left out."""

from __future__ import annotations

import io
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
from rag.ingest.loaders.sheets import records_of
from rag.types import LoadedDocument

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
DC = "http://purl.org/dc/elements/1.1/"
_T, _TB = f"{{{TEXT}}}", f"{{{TABLE}}}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"  # frames: pictures, boxes
# Never the document's own words: generated indexes, notes, comments, deleted text
_LEFT_OUT = {
    f"{_T}table-of-content", f"{_T}alphabetical-index", f"{_T}illustration-index",
    f"{_T}note", f"{{{OFFICE}}}annotation", f"{_T}tracked-changes", f"{_T}bibliography",
}  # fmt: skip


def load_odt(path: Path) -> LoadedDocument:
    from lxml import etree

    data = read_bytes(path)
    check_zip(path, data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as odt:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            content = etree.fromstring(odt.read("content.xml"), parser)
            meta = (
                etree.fromstring(odt.read("meta.xml"), parser)
                if "meta.xml" in odt.namelist()
                else None
            )
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, ValueError) as exc:
        raise LoaderError(path, f"cannot read this .odt ({exc}); is it damaged?") from exc
    body = content.find(f"{{{OFFICE}}}body/{{{OFFICE}}}text")
    if body is None:
        raise LoaderError(path, "this .odt has no text body; is it a spreadsheet or drawing?")
    blocks: list[str] = []
    headings: list[tuple[int, str]] = []
    _read_blocks(body, blocks, headings)
    text = tidy_lines("\n\n".join(b for b in blocks if b.strip()))
    if not text.strip():
        raise LoaderError(path, "document has no text")
    title = ""
    if meta is not None:
        found = meta.find(f".//{{{DC}}}title")
        title = " ".join((found.text or "").split()) if found is not None else ""
    return LoadedDocument(
        path=path,
        text=text,
        loader="odt",
        title=title,
        headings=locate_headings(text, headings),
        structured=True,
    )


def _read_blocks(root: Any, blocks: list[str], headings: list[tuple[int, str]]) -> None:
    """Paragraphs, headings and tables in document order, walked without recursion."""
    stack = list(reversed(root))
    while stack:
        node = stack.pop()
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _LEFT_OUT:
            continue
        if tag == f"{_T}h":
            title = _inline(node)
            if title:
                level = int(node.get(f"{_T}outline-level", "1") or 1)
                headings.append((max(1, min(level, 9)), title))
                blocks.append(title)
        elif tag == f"{_T}p":
            blocks.append(_inline(node))
        elif tag == f"{_TB}table":
            rows = [
                [_inline_all(cell) for cell in row.iter(f"{_TB}table-cell")]
                for row in node.iter(f"{_TB}table-row")
            ]
            blocks.append("\n".join(records_of(rows)))
        else:  # sections, lists, list items, frames: their children, in order
            stack.extend(reversed(node))


def _inline(paragraph: Any) -> str:
    """A paragraph's text as shown: spans and links inline, text:s as spaces, tabs and
    line breaks as spaces; notes and frames inside it left out."""
    parts: list[str] = []
    stack: list[Any] = [paragraph]
    while stack:
        node = stack.pop()
        if isinstance(node, _Tail):
            parts.append(node.text)
            continue
        tag = node.tag if isinstance(node.tag, str) else ""
        if node is not paragraph and (tag in _LEFT_OUT or tag.startswith(_DRAW)):
            pass
        elif tag == f"{_T}s":
            parts.append(" " * int(node.get(f"{_T}c", "1") or 1))
        elif tag in (f"{_T}tab", f"{_T}line-break"):
            parts.append(" ")
        else:
            parts.append(node.text or "")
            for child in reversed(node):
                if child.tail:
                    stack.append(_Tail(child.tail))
                stack.append(child)
    return " ".join("".join(parts).split())


def _inline_all(cell: Any) -> str:
    return " ".join(_inline(p) for p in cell.iter(f"{_T}p", f"{_T}h"))


class _Tail:
    """Text after a child element, read once the child is done."""

    def __init__(self, text: str):
        self.text = text
