"""A scripted model for fast tests of the answer plumbing (no weights needed)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

from rag.models.llm.base import Generation
from rag.types import ChatMessage


class FakeChatModel:
    model_id = "test:fake"

    def __init__(
        self,
        reply: str | Callable[[Sequence[ChatMessage]], str],
        *,
        prompt_s: float = 0.0,
        piece_s: float = 0.0,
    ):
        """`prompt_s` and `piece_s` make it as slow as a real model: seconds before the
        first piece (reading the prompt) and between pieces."""
        self._reply = reply
        self._prompt_s = prompt_s
        self._piece_s = piece_s
        self.calls: list[list[ChatMessage]] = []
        self.cancelled = 0  # streams stopped by their cancel signal
        self._lock = threading.Lock()  # one generation at a time, as llama.cpp

    def stream(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        with self._lock:
            self.calls.append(list(messages))
            text = self._reply(messages) if callable(self._reply) else self._reply
            try:
                self._pause(self._prompt_s, how)
                for i in range(0, len(text), 3):  # a few characters at a time, like tokens
                    how.check()
                    yield text[i : i + 3]
                    self._pause(self._piece_s, how)
            except BaseException:
                self.cancelled += bool(how.cancel is not None and how.cancel.is_set())
                raise

    @staticmethod
    def _pause(seconds: float, how: Generation) -> None:
        if seconds > 0:
            (how.cancel or threading.Event()).wait(seconds)
        how.check()
