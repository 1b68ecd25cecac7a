"""Turn a follow-up ("那2025年的目标呢？") into a standalone question before retrieval."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from string import Template

from rag.models.llm.base import ChatModel, Generation
from rag.types import ChatMessage

MAX_TURNS = 3


def format_history(history: Sequence[ChatMessage]) -> str:
    turns = [m for m in history if m.role in ("user", "assistant")][-2 * MAX_TURNS :]
    return "\n".join(f"{'用户' if m.role == 'user' else '助手'}：{m.content[:300]}" for m in turns)


def standalone_question(
    question: str,
    history: Sequence[ChatMessage],
    llm: ChatModel,
    template: Template,
    cancel: threading.Event | None = None,
) -> str:
    if not any(m.role == "user" for m in history):
        return question
    prompt = template.safe_substitute(history=format_history(history), question=question)
    reply = "".join(
        llm.stream([ChatMessage("user", prompt)], Generation(80, cancel=cancel))
    ).strip()
    reply = reply.splitlines()[0].strip().strip('“”"') if reply else ""
    # A rewrite that lost the question or ran on is worse than the original plus context.
    if not reply or len(reply) > 4 * len(question) + 60:
        last = next(m.content for m in reversed(history) if m.role == "user")
        return f"{last} {question}"
    return reply
