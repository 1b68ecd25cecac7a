"""PDF files as a reader sees the pages, read with PDFium (pypdfium2).

What a text extractor emits is not what the page says. This loader reads each page as
positioned lines, then:
- leaves out running headers and footers (the same text, numbers aside, at the top or
  bottom of most pages) and table-of-contents pages (lines ending in dot leaders);
- joins lines that were wrapped because they reached the right margin: no space between
  two Chinese characters, one between Latin words, hyphenation undone;
- keeps code (a fixed-pitch font) line by line, joining only its continuation marks;
- normalises ligatures and other compatibility forms, drops zero-width characters;
- takes headings from the PDF's outline, the title from its metadata, and records where
  each page starts, so a citation names its page.
Tables come out one row a line, cells separated by " | ".
"""

from __future__ import annotations

import ctypes
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.ingest.loaders.base import LoaderError, read_bytes
from rag.ingest.ocr import OcrLine, PageReader
from rag.types import Heading, LoadedDocument

_BAND = 0.1  # running headers and footers sit in the top or bottom tenth of the page
_LEADER = re.compile(r"(?:[.．·…•・_]\s*){4,}\s*\d+\s*$")
_SENTENCE_END = re.compile(r"[。！？!?；;：:]$")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_CJK_KEPT = re.compile(r"[\u3000-\u303f\uff00-\uffef]")  # full-width forms stay as printed
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SOFT_HYPHENS = ("\ufffe", "\u00ad", "\x02")
_CODE_FONT = re.compile(r"courier|mono|consol|menlo|code|fixed|typewriter", re.I)
_CONTINUATION = re.compile(r"\s*(?:←-|↩|⤶|↵|⏎|→)$")
_TITLE_JUNK = re.compile(r"^(?:microsoft\s+\w+\s*-\s*)|\.(?:docx?|pdf|pptx?|wps|txt)$", re.I)


@dataclass
class PageLine:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    size: float  # font size
    code: bool
    page: int  # 0-based

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, self.size, 1.0)


def load_pdf(path: Path, ocr: PageReader | None = None) -> LoadedDocument:
    """A PDF's pages; a page without a text layer (a scan) is read by `ocr`, if given."""
    import pypdfium2 as pdfium

    data = read_bytes(path)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise LoaderError(path, "PDF is encrypted; save an unprotected copy") from exc
        raise LoaderError(path, f"cannot read this PDF ({reason}); is it damaged?") from exc
    scanned: list[int] = []
    try:
        pages = [_page_lines(pdf[i], i) for i in range(len(pdf))]
        if not any(pages) and ocr is None:
            raise _why_no_text(path, data)
        if ocr is not None:
            for i, lines in enumerate(pages):
                if not lines:
                    pages[i] = _ocr_page(pdf[i], i, ocr, f"{path.name} p. {i + 1}/{len(pdf)}")
                    scanned += [i + 1] if pages[i] else []
        outline = _outline(pdf)
        title = _clean_title(pdf.get_metadata_dict().get("Title", ""), path)
    except pdfium.PdfiumError as exc:
        raise LoaderError(path, f"cannot read this PDF ({exc}); is it damaged?") from exc
    finally:
        pdf.close()
    if not any(pages):
        raise _why_no_text(path, data, ocr_tried=True)
    text, page_starts, line_starts = compose(pages)
    if not text.strip():
        raise LoaderError(path, "PDF has no text besides headers, footers and contents")
    return LoadedDocument(
        path=path,
        text=text,
        loader="pdf",
        title=title,
        headings=_place_outline(outline, line_starts),
        pages=page_starts,
        ocr_pages=tuple(scanned),
    )


def compose(pages: list[list[PageLine]]) -> tuple[str, tuple[int, ...], list[tuple[int, int, str]]]:
    """Pages of positioned lines as a reader reads them: page furniture and contents
    pages left out, wrapped lines joined. Returns the text, where each page starts and
    each line's (page, offset, text)."""
    body = _drop_running_lines(pages)
    body = [_before_contents(lines) if _is_contents_page(lines) else lines for lines in body]
    return _assemble(body, _right_margin(body))


_OCR_SCALE = 2.0  # 144 dpi: enough for 9-point Chinese, and OCR takes seconds a page


def _ocr_page(page: Any, number: int, ocr: PageReader, label: str) -> list[PageLine]:
    image = page.render(scale=_OCR_SCALE).to_pil()
    return lines_from_ocr(ocr.read(image, label), number, image.height, _OCR_SCALE)


def lines_from_ocr(
    found: list[OcrLine], number: int, height_px: float, scale: float
) -> list[PageLine]:
    """OCR'd lines in the page's own units (points, y upwards), as PDFium gives text."""
    lines = []
    for ln in found:
        top, bottom = (height_px - ln.top) / scale, (height_px - ln.bottom) / scale
        size = (top - bottom) * 0.8  # a line box is a little taller than the font size
        text = _tidy(ln.text)
        if text:
            lines.append(
                PageLine(text, ln.left / scale, ln.right / scale, top, bottom, size, False, number)
            )
    return lines


# --------------------------------------------------------------------------- reading


def _page_lines(page: Any, number: int) -> list[PageLine]:
    """The page's text as lines in PDFium's reading order: its runs of characters, those
    on one baseline merged (a table row's cells, a line drawn in pieces)."""
    textpage = page.get_textpage()
    lines: list[PageLine] = []
    try:
        for piece in _pieces(textpage):
            size, code = _font(textpage, piece.first)
            last = lines[-1] if lines else None
            middle = (piece.top + piece.bottom) / 2
            left = piece.left
            if last is not None and last.bottom <= middle <= last.top and left >= last.right - 1:
                gap = left - last.right
                spaced = gap > 0.2 * last.height or last.text[-1:].isspace()
                sep = " | " if gap > 2 * last.height else (" " if spaced else "")
                last.text = _join_words(last.text.rstrip(), piece.text.strip(), sep)
                last.right = piece.right
                continue
            lines.append(
                PageLine(piece.text, left, piece.right, piece.top, piece.bottom, size, code, number)
            )
    finally:
        textpage.close()
    for line in lines:
        line.text = line.text.rstrip() if line.code else _tidy(line.text)
    return [line for line in lines if line.text.strip()]


@dataclass
class _Piece:
    """Characters PDFium reads as one run: on one of its lines, without a wide gap."""

    text: str
    first: int  # index of its first printed character
    left: float
    right: float
    top: float
    bottom: float


@dataclass(frozen=True)
class _Glyph:
    char: str
    bottom: float
    top: float
    size: float


def _is_note_mark(glyph: _Glyph, before: _Glyph) -> bool:
    """A footnote's number, set small and raised after a Chinese character ("工作路径²⁰中"):
    read into the line it becomes part of a word or a number ("工作路径20中"). After a
    Latin letter or a digit a raised digit may be a power ("m²", "10⁶") and stays."""
    raised = glyph.bottom > before.bottom + 0.3 * (before.top - before.bottom)
    return (
        glyph.char.isdigit()
        and bool(_CJK.match(before.char))
        and glyph.size <= 0.8 * before.size
        and raised
    )


def _pieces(textpage: Any) -> list[_Piece]:
    """The page's characters in PDFium's order, cut where PDFium breaks the line and at
    gaps wider than two characters (a table's columns). Each character is read once:
    PDFium's rectangles overlap where letters are raised or lowered (the TeX and LaTeX
    logos), and text read per rectangle repeated them ("LA LATATE TEX EX")."""
    import pypdfium2.raw as raw

    pieces: list[_Piece] = []
    current: _Piece | None = None
    before: _Glyph | None = None  # the last character kept on this line
    for i in range(textpage.count_chars()):
        ch = chr(raw.FPDFText_GetUnicode(textpage.raw, i))
        if ch in "\r\n":
            current, before = None, None
            continue
        if ch.isspace() or raw.FPDFText_IsGenerated(textpage.raw, i):
            if current is not None:
                current.text += ch
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        size = raw.FPDFText_GetFontSize(textpage.raw, i)  # a dash's box is a sliver
        glyph = _Glyph(ch, bottom, top, size)
        if before is not None and _is_note_mark(glyph, before):
            continue
        before = glyph
        if current is not None and left - current.right > 2 * max(size, top - bottom, 1.0):
            current = None
        if current is None:
            current = _Piece(ch, i, left, right, top, bottom)
            pieces.append(current)
            continue
        current.text += ch
        current.left, current.right = min(current.left, left), max(current.right, right)
        current.top, current.bottom = max(current.top, top), min(current.bottom, bottom)
    for piece in pieces:
        piece.text = piece.text.rstrip()
    return pieces


def _font(textpage: Any, index: int) -> tuple[float, bool]:
    import pypdfium2.raw as raw

    if index < 0:
        return 0.0, False
    flags = ctypes.c_int(0)
    size = float(raw.FPDFText_GetFontSize(textpage.raw, index))
    length = raw.FPDFText_GetFontInfo(textpage.raw, index, None, 0, ctypes.byref(flags))
    name = b""
    if length > 0:
        buffer = ctypes.create_string_buffer(length)
        raw.FPDFText_GetFontInfo(textpage.raw, index, buffer, length, ctypes.byref(flags))
        name = buffer.value
    fixed_pitch = bool(flags.value & 1)
    return size, fixed_pitch or bool(_CODE_FONT.search(name.decode("latin-1")))


def _tidy(text: str) -> str:
    """Compatibility forms (ligatures, full-width Latin letters) to their plain form,
    Chinese punctuation as printed, no zero-width characters, no space between two
    Chinese characters, single spaces."""
    text = "".join(
        ch if _CJK_KEPT.match(ch) else unicodedata.normalize("NFKC", ch)
        for ch in _ZERO_WIDTH.sub("", text)
    )
    text = re.sub(r"[ \t\u00a0\u3000]+", " ", text).strip()
    return re.sub(rf"(?<={_CJK.pattern}) (?={_CJK.pattern})", "", text)


# --------------------------------------------------------------------------- page furniture


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _in_band(line: PageLine, top: float, bottom: float) -> bool:
    band = (top - bottom) * _BAND
    return line.bottom >= top - band or line.top <= bottom + band


def _drop_running_lines(pages: list[list[PageLine]]) -> list[list[PageLine]]:
    """Leave out lines in the top or bottom band whose text, numbers aside, appears in
    that band on at least half the pages (at least two): running headers, footers and
    page numbers. A document of one page keeps everything."""
    texted = [lines for lines in pages if lines]
    if len(texted) < 2:
        return pages
    top = max(line.top for lines in texted for line in lines)
    bottom = min(line.bottom for lines in texted for line in lines)
    seen: dict[str, int] = {}
    for lines in texted:
        for key in {_furniture_key(ln.text) for ln in lines if _in_band(ln, top, bottom)}:
            seen[key] = seen.get(key, 0) + 1
    needed = max(2, (len(texted) + 1) // 2)
    running = {key for key, count in seen.items() if count >= needed}
    offset = _folio_offset(pages, top, bottom)
    kept = []
    for lines in pages:
        edges = _edge_lines(lines, top, bottom)
        kept.append(
            [
                ln
                for ln in lines
                if not (
                    (_in_band(ln, top, bottom) and _furniture_key(ln.text) in running)
                    or _prints_folio(ln, edges, offset)
                )
            ]
        )
    return kept


def _edge_lines(lines: list[PageLine], top: float, bottom: float) -> list[PageLine]:
    """The two highest and the two lowest lines of a page that lie in its bands."""
    by_height = sorted(lines, key=lambda ln: -ln.top)
    return [ln for ln in by_height[:2] + by_height[-2:] if _in_band(ln, top, bottom)]


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?<!\d)\d{1,4}(?!\d)", text)]


def _folio_offset(pages: list[list[PageLine]], top: float, bottom: float) -> int | None:
    """The printed page number minus the page's index, when at least half the pages
    (three or more) print it at their top or bottom. A running head that changes with
    the chapter ("1 WINDOWS 10 系统 | 13", "2 UBUNTU 20.04 系统 | 21") never repeats
    on half the pages, but it carries the page's number."""
    pages_with: dict[int, set[int]] = {}
    for i, lines in enumerate(pages):
        for ln in _edge_lines(lines, top, bottom):
            for number in _numbers(ln.text):
                pages_with.setdefault(number - i, set()).add(i)
    if not pages_with:
        return None
    offset, found = max(pages_with.items(), key=lambda kv: len(kv[1]))
    texted = sum(1 for lines in pages if lines)
    return offset if len(found) >= max(3, texted // 2) else None


def _prints_folio(line: PageLine, edges: list[PageLine], offset: int | None) -> bool:
    """A short line at the page's edge that prints this page's number."""
    if offset is None or len(line.text) > 80 or not any(line is ln for ln in edges):
        return False
    return line.page + offset in _numbers(line.text)


def _is_contents_page(lines: list[PageLine]) -> bool:
    """A table of contents: most lines end in dot leaders and a page number."""
    leaders = sum(1 for ln in lines if _LEADER.search(ln.text))
    return leaders >= 3 and leaders >= 0.4 * len(lines)


_ENTRY = re.compile(r"\|\s*\d+$")  # an entry without leaders: its page number set apart


def _before_contents(lines: list[PageLine]) -> list[PageLine]:
    """What a contents page says before its first entry: a title page that opens with
    the contents under it (an article's abstract, a version, a date) keeps its text;
    the short line right above the entries ("Contents", "目录") is their heading."""
    first = next(
        (i for i, ln in enumerate(lines) if _LEADER.search(ln.text) or _ENTRY.search(ln.text)),
        len(lines),
    )
    if first and len(lines[first - 1].text) <= 10:
        first -= 1
    return lines[:first]


# --------------------------------------------------------------------------- assembling


def _right_margin(pages: list[list[PageLine]]) -> float:
    """Where full lines end: the 90th percentile of body lines' right edges."""
    rights = sorted(ln.right for lines in pages for ln in lines if not ln.code)
    return rights[int(0.9 * (len(rights) - 1))] if rights else 0.0


def _continues(prev: PageLine, line: PageLine, margin: float) -> bool:
    """Was `line` wrapped off `prev`? Both prose in the same font size, `prev` reached
    the right margin and did not end its sentence, `line` follows right below (or
    starts the next page)."""
    if prev.code or line.code or _SENTENCE_END.search(prev.text):
        return False
    if abs(prev.size - line.size) > 0.15 * max(prev.size, line.size, 1.0):
        return False
    broken_word = prev.text.endswith(_SOFT_HYPHENS) or (
        bool(re.search(r"[A-Za-z]-$", prev.text)) and line.text[:1].islower()
    )
    if not broken_word and prev.right + _first_word_width(line) < margin:
        return False  # the next line's first word would have fitted: not wrapped
    if line.page != prev.page:
        return True
    return 0 <= prev.bottom - line.top <= prev.height


def _first_word_width(line: PageLine) -> float:
    """About how wide the line's first word is: a Chinese character is one em, a Latin
    letter about half of one."""
    first = re.match(r"[A-Za-z0-9_.\-/]+", line.text)
    return line.size * (0.5 * len(first.group()) if first else 1.0)


def _join_words(left: str, right: str, space: str = " ") -> str:
    """Join two pieces of one line or paragraph: a word broken by a hyphen is mended,
    and Chinese on either side needs no space."""
    if left.endswith(_SOFT_HYPHENS):
        return left.rstrip("".join(_SOFT_HYPHENS)) + right
    if re.search(r"[A-Za-z]-$", left) and right[:1].islower():
        return left[:-1] + right
    if space == " " and (not left or not right or _CJK.match(left[-1]) or _CJK.match(right[0])):
        return left + right
    return left + space + right


def _assemble(
    pages: list[list[PageLine]], margin: float
) -> tuple[str, tuple[int, ...], list[tuple[int, int, str]]]:
    """The document text, where each page starts in it (a page left with no text starts
    where the next one does), and each line's (page, offset, text) for placing the
    outline's headings."""
    out: list[str] = []  # finished lines
    page_starts: list[int] = []
    line_starts: list[tuple[int, int, str]] = []
    length = 0
    prev: PageLine | None = None
    for lines in pages:
        if not lines:
            page_starts.append(length)
            continue
        for n, line in enumerate(lines):
            if prev is not None and (_continues(prev, line, margin) or _code_continues(prev)):
                if n == 0:
                    page_starts.append(length)
                joined = _join_lines(out[-1], line)
                length += len(joined) - len(out[-1])
                out[-1] = joined
            else:
                gap = "\n" if prev is None or _same_block(prev, line) else "\n\n"
                if out:
                    length += len(gap)
                    out[-1] += gap
                if n == 0:
                    page_starts.append(length)
                text = line.text
                line_starts.append((line.page, length, text))
                out.append(text)
                length += len(text)
            prev = line
    return "".join(out), tuple(page_starts), line_starts


def _join_lines(done: str, line: PageLine) -> str:
    if line.code:
        mark = _CONTINUATION.search(done)
        space = " " if mark and mark.group()[:1].isspace() else ""
        return done[: mark.start() if mark else len(done)] + space + line.text.lstrip()
    return _join_words(done, line.text)


def _code_continues(prev: PageLine) -> bool:
    return prev.code and bool(_CONTINUATION.search(prev.text))


def _same_block(prev: PageLine, line: PageLine) -> bool:
    return line.page == prev.page and prev.bottom - line.top <= 0.8 * prev.height


def _why_no_text(path: Path, data: bytes, ocr_tried: bool = False) -> LoaderError:
    """PDFium says nothing when a page's content cannot be decoded: pypdf, which logs
    what it cannot read, tells a damaged file from a scan."""
    import io
    import logging

    from pypdf import PdfReader

    complaints: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            complaints.append(record.getMessage())

    log = logging.getLogger("pypdf")
    handler = Collect(logging.WARNING)
    log.addHandler(handler)
    log.propagate = False  # to our report, not to the terminal
    try:
        for page in PdfReader(io.BytesIO(data)).pages:
            page.extract_text()
    except Exception as exc:
        complaints.append(f"{type(exc).__name__}: {exc}")
    finally:
        log.removeHandler(handler)
    if complaints:
        return LoaderError(
            path,
            f"the PDF's page contents cannot be decoded ({complaints[0][:120]}); is it"
            " damaged? Re-export or print it to a new PDF",
        )
    if ocr_tried:
        return LoaderError(path, "PDF has no text, not even by OCR (blank pages or pictures?)")
    return LoaderError(
        path, "PDF has no text layer (a scan?) and OCR is off (RAG_OCR=false); turn it on"
    )


# --------------------------------------------------------------------------- outline, title


def _outline(pdf: Any) -> list[tuple[int, str, int]]:
    """(level, title, 0-based page) of each outline entry that points at a page."""
    entries = []
    for item in pdf.get_toc(max_depth=8):
        dest = item.get_dest()
        index = dest.get_index() if dest is not None else None
        title = _tidy(item.get_title() or "")
        if index is not None and title:
            entries.append((item.level + 1, title, index))
    return entries


def _place_outline(
    outline: list[tuple[int, str, int]], lines: list[tuple[int, int, str]]
) -> tuple[Heading, ...]:
    """Each outline entry at the line of its page that reads as its title; an entry
    whose title no line of that page shows is left out."""
    headings: list[Heading] = []
    used: set[int] = set()
    for level, title, page in outline:
        want = _heading_key(title)
        for line_page, offset, text in lines:
            if line_page != page or offset in used:
                continue
            have = _heading_key(text)
            unnumbered = _heading_key(_NUMBERING.sub("", text))
            if any(h.startswith(want) and len(h) <= len(want) + 8 for h in (have, unnumbered)):
                headings.append(Heading(offset, level, text))
                used.add(offset)
                break
    return tuple(sorted(headings, key=lambda h: h.start))


# "1.7.1 ", "B.2 ", "3 ": the number a heading line prints and its outline entry may not
_NUMBERING = re.compile(r"^\s*(?:\d+|[A-Z])(?:\.\d+)*(?:\.\s*|\s+|(?=[^\x00-\x7f]))")


def _heading_key(text: str) -> str:
    """A heading as compared with its outline entry: no spaces, case folded (a logo
    set in small capitals reads "TEX" where the outline says "TeX")."""
    return re.sub(r"\s+", "", text).casefold()


def _clean_title(raw_title: str, path: Path) -> str:
    """The metadata title, unless it is a converter's placeholder or the file name."""
    title = _TITLE_JUNK.sub("", _tidy(raw_title or "")).strip()
    if not title or title.lower() in {"untitled", "无标题", path.stem.lower()}:
        return ""
    return title


# --------------------------------------------------------------------------- page images


def render_page(path: Path, page: int, quote: str = "", scale: float = 1.5) -> bytes:
    """A PNG of the 1-based `page`, with the lines that hold `quote` highlighted (when
    they can be found on it: the quote is the loader's text, which joined the lines)."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    try:
        pdf = pdfium.PdfDocument(read_bytes(path))
    except pdfium.PdfiumError as exc:
        raise LoaderError(path, f"cannot read this PDF ({exc})") from exc
    try:
        if not 1 <= page <= len(pdf):
            raise LoaderError(path, f"the PDF has no page {page}")
        sheet = pdf[page - 1]
        height = sheet.get_height()
        image = sheet.render(scale=scale).to_pil().convert("RGB")
        draw = ImageDraw.Draw(image, "RGBA")
        for left, bottom, right, top in _quote_boxes(sheet, quote):
            box = (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
            draw.rectangle(box, fill=(255, 200, 0, 90))
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _quote_boxes(sheet: Any, quote: str) -> list[tuple[float, float, float, float]]:
    """The page's text rectangles from the quote's first words to its last ones."""
    words = re.sub(r"\s+", "", quote)
    if not words:
        return []
    textpage = sheet.get_textpage()
    try:
        first = _find(textpage, words[:12], 0)
        if first is None:
            return []
        last = _find(textpage, words[-8:], first[0]) or first
        count = last[0] + last[1] - first[0]
        return [textpage.get_rect(k) for k in range(textpage.count_rects(first[0], count))]
    finally:
        textpage.close()


def _find(textpage: Any, key: str, after: int) -> tuple[int, int] | None:
    """Where `key` is on the page, at or after char `after`; shorter keys are tried when
    a line break inside it keeps it from matching."""
    while len(key) >= 3:
        searcher = textpage.search(key, index=after)
        found = searcher.get_next()
        searcher.close()
        if found:
            return int(found[0]), int(found[1])
        key = key[: len(key) * 2 // 3]
    return None
