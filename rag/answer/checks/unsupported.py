"""Not one sentence of the answer holds up against a passage: the small model answered
something else, or what the documents do not say (benchmarks/README.md)."""

from __future__ import annotations

from rag.answer.checks.base import Draft


class NoSupportedSentence:
    def verdict(self, draft: Draft) -> str | None:
        if draft.supported_sentences == 0:
            return "no sentence of the answer is supported by a passage"
        return None
