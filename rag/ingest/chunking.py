"""Chinese-aware chunking that keeps offsets, section paths and tables intact.

A document is read line by line into blocks (headings, paragraphs, tables). Headings
build the section path; paragraphs are cut at sentence ends (。！？；) and packed into
chunks of about `size` characters, with a sentence or two of overlap; tables that arrive
one cell per line are packed cell by cell and every piece repeats the caption and header
rows, so a number is never separated from what it measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from rag.text.sentences import CLAUSE_END, SENTENCE_END, Line, split_sentences
from rag.types import Chunk, Heading

_CN_NUM = "一二三四五六七八九十百零〇两"
# (pattern, level): a smaller level is a bigger section
_NUMBERED_HEADINGS = [
    (re.compile(rf"^第[{_CN_NUM}\d]+[编篇部]"), 0),
    (re.compile(rf"^第[{_CN_NUM}\d]+章"), 1),
    (re.compile(rf"^第[{_CN_NUM}\d]+节"), 2),
    (re.compile(rf"^[{_CN_NUM}]+[、.．]"), 1),
    (re.compile(rf"^[(（][{_CN_NUM}]+[)）]"), 2),
    (re.compile(r"^\d{1,2}[、．](?!\d)|^\d{1,2}\.(?!\d)"), 3),
    (re.compile(r"^[(（]\d{1,2}[)）]"), 4),
]
_UNNUMBERED_LEVEL = 5
_MAX_HEADING_CHARS = 40
_ENDS_SENTENCE = re.compile(r"[。！？!?]\s*$")
_NO_HEADING_CHARS = re.compile(r"[。！？；!?;，,：:]")
_TABLE_CAPTION = re.compile(r"^表\s*\d+")
_NUMERIC_CELL = re.compile(r"^[-+]?[\d.,%．/~—-]+$")
_MAX_CELL_CHARS = 40
_TITLE_WORDS = re.compile(r"报告|规划|计划|纲要|路线图|方案|意见|通知|决定|办法|条例|白皮书")


@dataclass
class _Block:
    kind: str  # "paragraph" or "table"
    section: str
    lines: list[Line] = field(default_factory=list)


def iter_lines(text: str) -> Iterator[Line]:
    """Non-blank lines with their offsets, leading and trailing blanks excluded."""
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            start = pos + raw.index(stripped[0])
            yield Line(start, start + len(stripped), stripped)
        pos += len(raw) + 1


def numbered_heading_level(line: str) -> int | None:
    for pattern, level in _NUMBERED_HEADINGS:
        if pattern.match(line):
            return level
    return None


def _looks_like_unnumbered_heading(line: str) -> bool:
    return (
        len(line) <= 30
        and not _NO_HEADING_CHARS.search(line)
        and not _NUMERIC_CELL.match(line)
        and not _TABLE_CAPTION.match(line)
    )


def _is_cell(line: str) -> bool:
    return (
        len(line) <= _MAX_CELL_CHARS
        and "。" not in line
        and numbered_heading_level(line) not in (0, 1, 2)
    )


class _SectionPath:
    """The stack of headings above the current line."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))

    def deepest_unnumbered(self) -> int | None:
        levels = [lvl for lvl, _ in self._stack if lvl >= _UNNUMBERED_LEVEL]
        return max(levels) if levels else None

    def __str__(self) -> str:
        return " > ".join(title for _, title in self._stack)


def parse_blocks(
    text: str, headings: Sequence[Heading] = (), structured: bool = False
) -> list[_Block]:
    """Group lines into paragraphs and tables, each tagged with its section path.

    The headings a file declares are taken as they are; only when it declares none
    and is not `structured` (plain text) are headings guessed from numbering and short
    lines."""
    lines = list(iter_lines(text))
    declared = {h.start: h for h in headings}
    structured = structured or bool(declared)
    path = _SectionPath()
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _TABLE_CAPTION.match(line.text) and len(line.text) <= _MAX_CELL_CHARS:
            j = i + 1
            while j < len(lines) and _is_cell(lines[j].text):
                j += 1
            if j - i > 3:
                blocks.append(_Block("table", str(path), lines[i:j]))
                i = j
                continue
        taken = (
            _take_declared_heading(lines, i, declared, path)
            if structured
            else _take_guessed_headings(lines, i, path)
        )
        if taken:
            i += taken
            continue
        if blocks and blocks[-1].kind == "paragraph" and blocks[-1].section == str(path):
            blocks[-1].lines.append(line)
        else:
            blocks.append(_Block("paragraph", str(path), [line]))
        i += 1
    return blocks


def _take_declared_heading(
    lines: list[Line], i: int, declared: dict[int, Heading], path: _SectionPath
) -> int:
    """A heading the file declares opens its section and stays the first line of its
    text: in a manual the heading often says what the section is for ("-o/--out-dir:
    output directory path"), so the passage the model reads keeps it, and so does a
    citation. Only a heading directly above another is a label alone."""
    heading = declared.get(lines[i].start)
    if heading is None:
        return 0
    path.push(heading.level, heading.title)
    next_is_heading = i + 1 < len(lines) and lines[i + 1].start in declared
    return 1 if next_is_heading else 0


def _take_guessed_headings(lines: list[Line], i: int, path: _SectionPath) -> int:
    """How many lines from `i` are headings (pushed on the path): a numbered line
    ("第二章", "（三）") or a group of short lines that precede text."""
    line = lines[i]
    level = numbered_heading_level(line.text)
    if level is not None:
        title = line.text
        if len(title) > _MAX_HEADING_CHARS:
            # "（二）实施数字经济引领行动。……": the first sentence is the heading, and the
            # line is still body text
            first = SENTENCE_END.search(title)
            title = title[: first.start()] if first else ""
        if 0 < len(title) <= _MAX_HEADING_CHARS:
            path.push(level, title)
            # a numbered sentence ("第3条：访客在3号门登记。") names its section and is
            # still text: a file of such lines alone would otherwise index nothing
            return 1 if title == line.text and not _ENDS_SENTENCE.search(title) else 0
        return 0
    if _looks_like_unnumbered_heading(line.text) and _precedes_text(lines, i):
        group = _heading_group(lines, i)
        deepest = path.deepest_unnumbered()
        first_level = (
            _UNNUMBERED_LEVEL
            if deepest is None
            else max(_UNNUMBERED_LEVEL, deepest - len(group) + 1)
        )
        for k, heading in enumerate(group):
            path.push(first_level + k, heading.text)
        return len(group)
    return 0


def _precedes_text(lines: list[Line], i: int) -> bool:
    """A short line is a heading only if body text follows it (not at the very end)."""
    return i + 1 < len(lines)


def _heading_group(lines: list[Line], i: int) -> list[Line]:
    group = [lines[i]]
    j = i + 1
    while (
        j + 1 < len(lines)
        and numbered_heading_level(lines[j].text) is None
        and _looks_like_unnumbered_heading(lines[j].text)
        and len(group) < 3
    ):
        group.append(lines[j])
        j += 1
    return group


# --------------------------------------------------------------------------- paragraphs


def split_long(piece: Line, size: int) -> list[Line]:
    """Cut an over-long sentence at clause marks, else at a word boundary (never inside
    a number or a name)."""
    if len(piece.text) <= size:
        return [piece]
    cuts = [m.end() for m in CLAUSE_END.finditer(piece.text)] or _word_boundaries(piece.text)
    out: list[Line] = []
    begin = 0
    last_ok = 0
    for cut in [*cuts, len(piece.text)]:
        if cut - begin > size and last_ok > begin:
            out.append(piece.slice(begin, last_ok))
            begin = last_ok
        last_ok = cut
    out.append(piece.slice(begin, len(piece.text)))
    # a clause may still be too long: fall back to word boundaries inside it
    if any(len(p.text) > size for p in out) and cuts != _word_boundaries(piece.text):
        return [q for p in out for q in _split_at_words(p, size)]
    return out


def _split_at_words(piece: Line, size: int) -> list[Line]:
    if len(piece.text) <= size:
        return [piece]
    out: list[Line] = []
    begin = 0
    last_ok = 0
    for cut in [*_word_boundaries(piece.text), len(piece.text)]:
        if cut - begin > size and last_ok > begin:
            out.append(piece.slice(begin, last_ok))
            begin = last_ok
        last_ok = cut
    out.append(piece.slice(begin, len(piece.text)))
    return out


def _word_boundaries(text: str) -> list[int]:
    import jieba

    ends, pos = [], 0
    for word in jieba.cut(text):
        pos += len(word)
        ends.append(pos)
    return ends


def _pack(pieces: list[Line], size: int, overlap: int) -> list[list[Line]]:
    """Greedy packing into windows of at most `size` characters; each new window starts
    with the previous window's last pieces that fit in `overlap` characters."""
    windows: list[list[Line]] = []
    current: list[Line] = []
    for piece in pieces:
        if current and piece.end - current[0].start > size:
            windows.append(current)
            carry: list[Line] = []
            for prev in reversed(current):
                if current[-1].end - prev.start > overlap:
                    break
                carry.insert(0, prev)
            current = carry if len(carry) < len(current) else []
        current.append(piece)
    if current:
        windows.append(current)
    # A short tail (often "（责任单位：……）") reads better with what it closes.
    if len(windows) > 1 and windows[-1][-1].end - windows[-1][0].start < size // 4:
        tail = windows.pop()
        windows[-1] = windows[-1] + [p for p in tail if p.start >= windows[-1][-1].end]
    return windows


def _short_section(section: str, levels: int = 2) -> str:
    """The innermost headings only: the full path would cost tokens in every chunk."""
    return " > ".join(section.split(" > ")[-levels:])


def _paragraph_chunks(
    text: str, block: _Block, size: int, overlap: int, sections: bool
) -> list[Chunk]:
    pieces = [
        short
        for line in block.lines
        for sentence in split_sentences(line)
        for short in split_long(sentence, size)
    ]
    chunks = []
    for window in _pack(pieces, size, overlap):
        start, end = window[0].start, window[-1].end
        body = text[start:end]
        header = _short_section(block.section) if sections else ""
        context = f"{header}\n{body}" if header else body
        chunks.append(Chunk(start=start, end=end, section=block.section, context=context))
    return chunks


# --------------------------------------------------------------------------- tables


def _table_chunks(block: _Block, size: int, overlap: int, sections: bool) -> list[Chunk]:
    caption, cells = block.lines[0], block.lines[1:]
    header_len = _header_length(cells)
    header, body = cells[:header_len], cells[header_len:]
    header_text = " | ".join(cell.text for cell in header)
    budget = max(size - len(caption.text) - len(header_text), size // 3)
    section = f"{block.section} > {caption.text}" if block.section else caption.text
    chunks = []
    windows = _pack_cells(body, budget, overlap) if body else [[]]
    for n, window in enumerate(windows):
        span = ([caption, *header] if n == 0 else []) + window
        rows = " | ".join(cell.text for cell in window)
        label = _short_section(section) if sections else ""
        context = "\n".join(part for part in (label, header_text, rows) if part)
        chunks.append(
            Chunk(start=span[0].start, end=span[-1].end, section=section, context=context)
        )
    return chunks


def _header_length(cells: list[Line]) -> int:
    """Header rows end before the row label that precedes the first numeric cell."""
    for k, cell in enumerate(cells):
        if _NUMERIC_CELL.match(cell.text):
            return max(k - 1, 1)
    return 1


def _pack_cells(cells: list[Line], budget: int, overlap: int) -> list[list[Line]]:
    """Pack cells by their text length (the blank lines between them do not count)."""
    windows: list[list[Line]] = []
    current: list[Line] = []
    used = 0
    for cell in cells:
        if current and used + len(cell.text) + 3 > budget:
            windows.append(current)
            carry: list[Line] = []
            carried = 0
            for prev in reversed(current):
                if carried + len(prev.text) > overlap:
                    break
                carry.insert(0, prev)
                carried += len(prev.text) + 3
            current, used = carry, carried
        current.append(cell)
        used += len(cell.text) + 3
    if current:
        windows.append(current)
    return windows


# --------------------------------------------------------------------------- entry point

# What a chunk's indexed (embedded and keyword-searched) text starts with: the document's
# title and the innermost headings of its section, the headings only, or nothing
# (benchmarks/passage_labels.py measures each on every eval corpus)
LABELS = ("title+section", "section", "none")


def document_title(text: str) -> str:
    """A title-like line from the top of the document ("……行动计划", "……工作报告").

    Every chunk's context starts with it: questions name the document they are about
    ("2023年政府工作报告提出……"), while its passages rarely repeat that name.
    """
    lines = [line.text.rstrip("。") for line in list(iter_lines(text))[:15]]
    candidates = [t for t in lines if len(t) <= 80 and "。" not in t and not _NO_TITLE.search(t)]
    titled = [t for t in candidates if _TITLE_WORDS.search(t)]
    title = (titled or candidates or [""])[0]
    # "……关于印发《X》的通知" is about X
    notice = _NOTICE.search(title)
    return notice.group(1).strip("《》") if notice else title


_NO_TITLE = re.compile(r"[:：]")
_NOTICE = re.compile(r"关于印发(.+)的通知$")


def chunk_document(
    text: str,
    size: int = 300,
    overlap: int = 80,
    *,
    title: str = "",
    headings: Sequence[Heading] = (),
    structured: bool = False,
    labels: str = "title+section",
) -> list[Chunk]:
    """Chunks of a document; `title`, `headings` and `structured` are what the file
    declares (see LoadedDocument; a title is guessed from the first lines when it
    declares none). `labels` (one of LABELS) says what each chunk's indexed text starts
    with, before its own words."""
    if labels not in LABELS:
        raise ValueError(f"chunk labels {labels!r}: choose one of {', '.join(LABELS)}")
    title = title or document_title(text)
    sections = labels != "none"
    chunks: list[Chunk] = []
    for block in parse_blocks(text, headings, structured):
        if block.kind == "table":
            chunks.extend(_table_chunks(block, size, overlap, sections))
        else:
            chunks.extend(_paragraph_chunks(text, block, size, overlap, sections))
    if not title or labels != "title+section":
        return chunks
    return [replace(c, context=f"{title}\n{c.context}") for c in chunks]
