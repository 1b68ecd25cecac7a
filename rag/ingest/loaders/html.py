"""HTML pages as a reader sees them: block elements make lines, inline elements (code,
links, emphasis, spans) stay inside their sentence, `pre` is kept as it is, and what is
not the page's content (scripts, navigation, footers, asides) is left out.

Before, every inline element came out on a line of its own: the chunker took the
fragments for headings and about 12% of a help page's words ended up in no chunk text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rag.ingest.loaders.base import LoaderError, locate_headings, read_bytes, tidy_lines
from rag.ingest.loaders.text import decode_text
from rag.types import LoadedDocument

# Never the page's content
_LEFT_OUT = {
    "script", "style", "noscript", "template", "head", "svg", "nav", "footer", "aside",
    "button", "dialog", "menu",
}  # fmt: skip
_LEFT_OUT_ROLES = {
    "navigation", "contentinfo", "search", "banner", "menu", "menubar", "dialog",
    "alertdialog", "toolbar", "tablist",
}  # fmt: skip
# Elements that start a line of their own (the rest flow inside the line)
_BLOCKS = {
    "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "li", "main", "ol", "p", "section", "summary", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol", "dl",
               "blockquote", "figure", "section", "article"}  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\r\n\f\u3000]+")
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<={_CJK}) (?={_CJK})")


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    markup, encoding = decode_text(path, read_bytes(path))
    soup = BeautifulSoup(markup, "html.parser")
    title = _tidy(soup.title.get_text()) if soup.title else ""
    for tag in soup.find_all(_is_left_out):
        tag.decompose()
    lines: list[str] = []
    reader = _Reader(lines)
    # A page that marks its main content is read from there: what is around it (help
    # pop-ups, theme pickers, chapter lists) is the site's, not the page's
    main = soup.find("main") or soup.find(True, attrs={"role": "main"})
    reader.read(main if main is not None else soup)
    text = tidy_lines(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)))
    if not text.strip():
        raise LoaderError(path, "page has no visible text")
    headings = locate_headings(text, reader.headings)
    return LoadedDocument(
        path=path,
        text=text,
        loader="html",
        encoding=encoding,
        title=title or next((h.title for h in headings if h.level == 1), ""),
        headings=headings,
    )


def _is_left_out(tag: Any) -> bool:
    if not getattr(tag, "name", None):
        return False
    role = (tag.get("role") or "").lower() if hasattr(tag, "get") else ""
    return tag.name in _LEFT_OUT or role in _LEFT_OUT_ROLES or tag.get("hidden") is not None


class _Reader:
    """Walks the tree, gathering inline text into the current line and ending the line
    at every block; without recursion, so a page nested 10,000 deep is just a page."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.inline: list[str] = []
        self.headings: list[tuple[int, str]] = []  # (level, title) of each h1-h6

    def read(self, root: Any) -> None:
        from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction, Tag

        stack: list[Any] = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, _End):
                before = len(self.lines)
                self.end_line(blank=node.name in _PARAGRAPHS)
                if node.name in _HEADINGS and len(self.lines) > before:
                    self.headings.append((_HEADINGS[node.name], self.lines[before]))
            elif isinstance(node, Comment | Doctype | ProcessingInstruction):
                continue
            elif isinstance(node, NavigableString):
                self.inline.append(str(node))
            elif isinstance(node, Tag):
                if node.name == "pre":
                    self.end_line(blank=True)
                    self.lines.append(_ZERO_WIDTH.sub("", node.get_text()).strip("\n"))
                    self.lines.append("")
                elif node.name == "br":
                    self.end_line()
                else:
                    if node.name in _BLOCKS:
                        self.end_line(blank=node.name in _PARAGRAPHS)
                        stack.append(_End(node.name))
                    stack.extend(reversed(node.contents))
        self.end_line()

    def end_line(self, blank: bool = False) -> None:
        text = _tidy("".join(self.inline))
        self.inline = []
        if text:
            self.lines.append(text)
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")


def _tidy(text: str) -> str:
    text = _SPACES.sub(" ", _ZERO_WIDTH.sub("", text)).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


class _End:
    """Marks where a block element closes."""

    def __init__(self, name: str):
        self.name = name
