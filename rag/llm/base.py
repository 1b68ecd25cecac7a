"""The one interface every language-model backend implements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


class LLMError(RuntimeError):
    """The model could not answer; the message says what to check."""


class ChatModel(Protocol):
    model_id: str

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield the reply in pieces as they are generated."""
        ...
