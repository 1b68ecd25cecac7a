"""The checks an answer passes before it is final, one file each. `evidence` runs before
generation; the others judge the draft, in this order, and the first that objects
turns the answer into a refusal that says why (the answer's `refusal_reason`).

To add a check: a file here with a class whose `verdict(draft)` returns None or a
reason, and its place in AFTER_GENERATION."""

from __future__ import annotations

from rag.answer.checks.base import Check, Draft
from rag.answer.checks.declined import ModelDeclined
from rag.answer.checks.invented import InventedNumbers
from rag.answer.checks.invented_names import InventedNames
from rag.answer.checks.off_target import OffTarget
from rag.answer.checks.unrelated import Unrelated
from rag.answer.checks.unsupported import NoSupportedSentence

AFTER_GENERATION: tuple[Check, ...] = (
    ModelDeclined(),
    InventedNumbers(),
    InventedNames(),
    NoSupportedSentence(),
    OffTarget(),
    Unrelated(),
)


def first_objection(draft: Draft, checks: tuple[Check, ...] = AFTER_GENERATION) -> str | None:
    """The reason of the first check that refuses the draft, or None."""
    for check in checks:
        reason = check.verdict(draft)
        if reason:
            return reason
    return None


__all__ = ["AFTER_GENERATION", "Check", "Draft", "first_objection"]
