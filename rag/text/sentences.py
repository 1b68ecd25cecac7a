"""Where a sentence ends: one definition for chunking, citations and the checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

STOPS = "。！？；!?;…"  # what ends a sentence in Chinese and in English-in-Chinese text
# ...and an English full stop: after a word, before a space and a capital ("… files. The")
SENTENCE_END = re.compile(rf"(?:[{STOPS}]+|(?<=[a-z0-9)\]])\.(?=[”’\"')]*\s+[A-Z]))[”’」』）)\"']*")
CLAUSE_END = re.compile(r"[，,、：:]")


@dataclass(frozen=True)
class Line:
    """A piece of a document's text and where it lies in it."""

    start: int
    end: int
    text: str

    def slice(self, a: int, b: int) -> Line:
        """Characters a..b of this piece, with their offsets in the document."""
        return Line(self.start + a, self.start + b, self.text[a:b])


def split_sentences(line: Line) -> list[Line]:
    """Cut a paragraph after each sentence end; the pieces tile the line exactly."""
    pieces: list[Line] = []
    cut = 0
    for match in SENTENCE_END.finditer(line.text):
        if match.end() > cut:
            pieces.append(line.slice(cut, match.end()))
            cut = match.end()
    if cut < len(line.text):
        pieces.append(line.slice(cut, len(line.text)))
    return pieces


def sentences(text: str) -> list[str]:
    """The sentences of a text, line by line, without empty ones."""
    return [
        piece.text
        for raw in text.split("\n")
        for piece in split_sentences(Line(0, len(raw), raw))
        if piece.text.strip()
    ]
