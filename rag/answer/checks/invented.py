"""Numbers in the answer that neither the passages nor the question hold."""

from __future__ import annotations

from rag.answer.checks.base import Draft
from rag.answer.citations import MARKER
from rag.text.normal import figures, normalize
from rag.types import Passage


def invented_numbers(answer: str, question: str, passages: list[Passage]) -> list[str]:
    """Numbers in the answer that neither the passages nor the question contain: the
    small model's way of answering what the documents do not say."""
    known = normalize(question + "\n" + "\n".join(p.hit.context or p.hit.text for p in passages))
    return [n for n in dict.fromkeys(figures(MARKER.sub("", answer))) if n not in known]


class InventedNumbers:
    def verdict(self, draft: Draft) -> str | None:
        invented = invented_numbers(draft.reply, draft.question, draft.passages)
        if invented:
            return f"the answer has numbers no passage holds: {', '.join(invented)}"
        return None
