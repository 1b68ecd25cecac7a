"""The model itself says the passages do not answer."""

from __future__ import annotations

from rag.answer.checks.base import Draft

_MODEL_REFUSALS = (
    "没有找到相关信息",
    "未提及",
    "没有提到",
    "没有提及",
    "无法回答",
    "无法确定",
    "not mentioned",
    "does not mention",
    "no information",
)


def is_model_refusal(answer: str) -> bool:
    text = answer.strip().lower()
    return not text or any(phrase in text for phrase in _MODEL_REFUSALS)


class ModelDeclined:
    def verdict(self, draft: Draft) -> str | None:
        if is_model_refusal(draft.reply):
            return "the model found no answer in the passages"
        return None
