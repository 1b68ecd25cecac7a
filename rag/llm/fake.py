"""A scripted model for fast tests of the answer plumbing (no weights needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from rag.llm.base import ChatMessage


class FakeChatModel:
    model_id = "test:fake"

    def __init__(self, reply: str | Callable[[Sequence[ChatMessage]], str]):
        self._reply = reply
        self.calls: list[list[ChatMessage]] = []

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        text = self._reply(messages) if callable(self._reply) else self._reply
        for i in range(0, len(text), 3):  # a few characters at a time, like tokens
            yield text[i : i + 3]
