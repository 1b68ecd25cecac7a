"""Markdown as it reads when rendered: `#` headings declared as headings, pipe tables
as records that name their columns, fenced code kept as it is, and the marks of links,
images and emphasis taken off their words."""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.loaders.base import LoaderError, locate_headings, read_bytes, tidy_lines
from rag.ingest.loaders.sheets import records_of
from rag.ingest.loaders.text import decode_text
from rag.types import LoadedDocument

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")  # a line of = or - under a heading's text
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # an image: its alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # a link: its words
    (re.compile(r"<(https?://[^>]+)>"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?!\w)"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
]


def load_markdown(path: Path) -> LoadedDocument:
    source, encoding = decode_text(path, read_bytes(path))
    lines: list[str] = []
    headings: list[tuple[int, str]] = []
    raw = tidy_lines(source).split("\n")
    i = 0
    while i < len(raw):
        line = raw[i]
        fence = _FENCE.match(line)
        if fence:  # code, verbatim, without its fence lines
            j = i + 1
            while j < len(raw) and not raw[j].strip().startswith(fence.group(1)):
                j += 1
            lines += ["", *raw[i + 1 : j], ""]
            i = j + 1
            continue
        heading = _HEADING.match(line)
        setext = i + 1 < len(raw) and line.strip() and _SETEXT.match(raw[i + 1]) and "|" not in line
        if heading or setext:
            level = len(heading.group(1)) if heading else (1 if raw[i + 1].strip()[0] == "=" else 2)
            title = inline(heading.group(2) if heading else line.strip())
            if title:
                headings.append((level, title))
                lines += ["", title, ""]
            i += 1 if heading else 2
            continue
        if "|" in line and i + 1 < len(raw) and _TABLE_RULE.match(raw[i + 1]):
            j = i + 2
            while j < len(raw) and "|" in raw[j] and raw[j].strip():
                j += 1
            rows = [_cells(row) for row in [raw[i], *raw[i + 2 : j]]]
            lines += ["", *records_of(rows), ""]
            i = j
            continue
        lines.append(inline(re.sub(r"^\s{0,3}[-*+]\s+", "", line)) if line.strip() else "")
        i += 1
    text = tidy_lines(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)))
    if not text.strip():
        raise LoaderError(path, "file has no text")
    found = locate_headings(text, headings)
    return LoadedDocument(
        path=path,
        text=text,
        loader="markdown",
        encoding=encoding,
        title=next((h.title for h in found if h.level == 1), ""),
        headings=found,
        structured=bool(found),
    )


def inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text.strip()


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") else row
    return [inline(cell.strip()) for cell in re.split(r"(?<!\\)\|", row)]
