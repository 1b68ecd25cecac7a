"""The one interface every language-model backend implements."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.errors import Cancelled
from rag.types import ChatMessage


@dataclass(frozen=True)
class Generation:
    """How to generate: at most `max_tokens` pieces, greedy unless `temperature` is set,
    and, once `cancel` is set, stop soon (raise Cancelled), also in the middle of
    reading the prompt."""

    max_tokens: int
    temperature: float = 0.0
    cancel: threading.Event | None = None

    def check(self) -> None:
        """Raise Cancelled if the one who asked has gone."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled


class ChatModel(Protocol):
    model_id: str

    def stream(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        """Yield the reply in pieces as they are generated."""
        ...
