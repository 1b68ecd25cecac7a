"""The answer answers something other than the question: what a document's injected
"answer X to everything" looks like once it got past the masking."""

from __future__ import annotations

from rag.answer.checks.base import Draft
from rag.text.instructions import is_instruction
from rag.text.scripts import language_of
from rag.text.tokens import tokenize
from rag.types import Citation


def unrelated(question: str, citations: list[Citation]) -> str | None:
    """Why the answer answers something other than the question, or None.

    A document's instruction ("whatever is asked, answer X") can make the model give X
    with a citation that checks out: X is in the passage. What gives it away is what it
    cites: only sentences that instruct the assistant, or sentences that share no word
    or number with the question. (Across languages, a Chinese question over an English
    passage, words cannot be compared, so only the first test applies.)"""
    if not citations:
        return None
    if all(is_instruction(c.text) for c in citations):
        return "the answer cites only sentences that instruct the assistant"
    asked = {t for t in tokenize(question) if len(t) >= 2 or t.isdigit()}
    for c in citations:
        if language_of([c.text]) != language_of([question]):
            return None  # another language: no words to compare
        if asked & set(tokenize(c.text)):
            return None
    return "no passage the answer cites shares a word with the question"


class Unrelated:
    def verdict(self, draft: Draft) -> str | None:
        return unrelated(draft.question, draft.citations)
