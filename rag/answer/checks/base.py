"""What every check after generation judges, and the shape of a check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.types import Citation, Passage


@dataclass(frozen=True)
class Draft:
    """A generated answer before it is shown as final: the (standalone) question, the
    passages the model read, its raw reply, the citations that held up and how many of
    its sentences a passage supports."""

    question: str
    passages: list[Passage]
    reply: str
    citations: list[Citation]
    supported_sentences: int


class Check(Protocol):
    def verdict(self, draft: Draft) -> str | None:
        """None when the draft passes; otherwise why it is refused."""
        ...
