"""Numbers in the answer that neither the passages nor the question hold."""

from __future__ import annotations

from rag.answer.checks.base import Draft
from rag.answer.citations import MARKER
from rag.text.normal import figures, normalize, worked_out
from rag.types import Passage


def invented_numbers(answer: str, question: str, passages: list[Passage]) -> list[str]:
    """Numbers in the answer that neither the passages nor the question contain: the
    small model's way of answering what the documents do not say. A number the answer
    works out in the open from two it states and the passages hold (2000 - 1291.5 =
    708.5, a share, a growth rate) is not invented."""
    known = normalize(question + "\n" + "\n".join(p.hit.context or p.hit.text for p in passages))
    stated = list(dict.fromkeys(figures(MARKER.sub("", answer))))
    operands = [float(n) for n in stated if n in known]
    return [n for n in stated if n not in known and not worked_out(n, operands)]


class InventedNumbers:
    def verdict(self, draft: Draft) -> str | None:
        invented = invented_numbers(draft.reply, draft.question, draft.passages)
        if invented:
            return f"the answer has numbers no passage holds: {', '.join(invented)}"
        return None
