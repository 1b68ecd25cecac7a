"""Names, code and commands in the answer that neither the passages nor the question
hold: what the small model adds from its own memory when the documents do not answer
("用 `wkhtmltopdf` 转成 PDF", "运行 `cargo doc --no-deps`")."""

from __future__ import annotations

import re

from rag.answer.checks.base import Draft
from rag.answer.citations import MARKER
from rag.text.normal import normalize
from rag.text.scripts import has_han
from rag.types import Passage

# A word written in Latin letters, with the signs code and paths use inside it
_WORD = re.compile(r"[A-Za-z0-9_./:+#-]*[A-Za-z][A-Za-z0-9_./:+#-]*")
# Code-like wherever it stands: an option, or letters joined by _ / . : (a path, a file,
# an identifier, a domain), not a word that merely ends a sentence with "."
_CODE_LIKE = re.compile(r"^-{1,2}[A-Za-z]|[A-Za-z0-9][_/:][A-Za-z0-9]|[A-Za-z0-9]\.[A-Za-z]")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def specifics(answer: str) -> list[str]:
    """What the answer names that a reader could look up as written: the words of its
    code spans, code-like words (options, paths, identifiers) and, in a sentence with
    Chinese in it, every word in Latin letters: a product, a command, a name."""
    text = MARKER.sub("", answer)
    out = [w for span in _CODE_SPAN.findall(text) for w in _WORD.findall(span)]
    for sentence in re.split(r"(?<=[。！？!?；;\n])", _CODE_SPAN.sub(" ", text)):
        chinese = has_han(sentence)
        out += [w for w in _WORD.findall(sentence) if chinese or _CODE_LIKE.search(w)]
    words = (w.rstrip("./:") for w in out)
    return list(dict.fromkeys(w for w in words if len(w.strip("-")) >= 2))


def invented_names(answer: str, question: str, passages: list[Passage]) -> list[str]:
    """The answer's specifics that appear nowhere in the passages or the question."""
    known = _squeezed("\n".join([question, *(p.hit.context or p.hit.text for p in passages)]))
    return [w for w in specifics(answer) if _squeezed(w) not in known]


def _squeezed(text: str) -> str:
    """Compared without white space: a PDF breaks a long path or command over two lines
    ("/etc/fonts/conf.d/09-" / "texlive.conf") that the answer writes whole."""
    return re.sub(r"\s+", "", normalize(text)).lower()


class InventedNames:
    def verdict(self, draft: Draft) -> str | None:
        invented = invented_names(draft.reply, draft.question, draft.passages)
        if invented:
            return f"the answer names what no passage holds: {', '.join(invented)}"
        return None
