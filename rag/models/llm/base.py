"""The one interface every language-model backend implements."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Protocol

from rag.errors import Cancelled, LLMError
from rag.types import ChatMessage

__all__ = ["Cancelled", "ChatMessage", "ChatModel", "LLMError", "raise_if_cancelled"]


class ChatModel(Protocol):
    model_id: str

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces as they are generated. Once `cancel` is set, raise
        Cancelled soon, also in the middle of reading the prompt."""
        ...


def raise_if_cancelled(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled
