"""PowerPoint .pptx decks: one section per slide under its title, the slide's text in
reading order (tables as records), then its speaker notes. Each slide is a page, so a
citation names the slide."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from rag.ingest.loaders.base import LoaderError, check_zip, locate_headings, read_bytes
from rag.ingest.loaders.sheets import records_of
from rag.types import LoadedDocument

NOTES = "备注："  # before a slide's speaker notes


def load_pptx(path: Path) -> LoadedDocument:
    from lxml.etree import LxmlError
    from pptx import Presentation

    data = read_bytes(path)
    check_zip(path, data)
    try:
        deck = Presentation(io.BytesIO(data))
        slides = [_slide_lines(slide) for slide in deck.slides]
        title = (deck.core_properties.title or "").strip()
    except (zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise LoaderError(path, f"cannot read this .pptx ({exc}); is it damaged?") from exc
    lines: list[str] = []
    page_starts: list[int] = []
    headings: list[tuple[int, str]] = []
    length = 0
    for heading, body in slides:
        page_starts.append(length)
        if heading:
            headings.append((1, heading))
        block = "\n".join(([heading] if heading else []) + body) + "\n\n"
        lines.append(block)
        length += len(block)
    text = "".join(lines).rstrip("\n")
    if not text.strip():
        raise LoaderError(path, "the slides have no text")
    return LoadedDocument(
        path=path,
        text=text,
        loader="pptx",
        title=title,
        headings=locate_headings(text, headings),
        pages=tuple(page_starts),
        structured=True,
    )


def _slide_lines(slide: Any) -> tuple[str, list[str]]:
    """The slide's title and the rest of its text, top to bottom, left to right."""
    title_shape = slide.shapes.title
    title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
    body: list[str] = []
    shapes = sorted(
        (s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id),
        key=lambda s: (s.top or 0, s.left or 0),
    )
    for shape in shapes:
        body += _shape_lines(shape)
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        text = " ".join(notes.text.split()) if notes is not None else ""
        if text:
            body.append(NOTES + text)
    return title, body


_MAX_GROUP_DEPTH = 16  # groups inside groups; a deeper file is hostile, not a deck


def _shape_lines(shape: Any, depth: int = 0) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
        return list(records_of(rows))
    if hasattr(shape, "shapes"):  # a group
        if depth >= _MAX_GROUP_DEPTH:
            return []
        return [line for inner in shape.shapes for line in _shape_lines(inner, depth + 1)]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [" ".join(p.text.split()) for p in shape.text_frame.paragraphs if p.text.strip()]
    return []
