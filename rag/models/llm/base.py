"""The one interface every language-model backend implements."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@dataclass(frozen=True)
class PassagePrompt:
    """An answer prompt in the parts a backend may read separately: the system prompt,
    the head of the user's message, numbered passages, and the tail (the question and
    what to do). `messages()` is the same prompt as plain chat messages, for any backend.

    Passages come before the question so that what a model computes reading a passage
    does not depend on the question, and can be kept (rag/store/passage_states.py)."""

    system: str
    head: str
    passages: tuple[str, ...]
    tail: str
    chunk_ids: tuple[int, ...] = ()  # each passage's chunk, naming its stored state

    def marker(self, i: int) -> str:
        """What goes before passage i (0-based): a blank line after the one before it,
        and its number, which the answer cites."""
        return ("\n\n" if i else "") + f"[{i + 1}] "

    def user(self) -> str:
        body = "".join(self.marker(i) + text for i, text in enumerate(self.passages))
        return self.head + body + self.tail

    def messages(self) -> list[ChatMessage]:
        return [ChatMessage("system", self.system), ChatMessage("user", self.user())]


class StateCache(Protocol):
    """Where a backend keeps what it computed reading a passage (one knowledge base's
    rag.store.passage_states.PassageStates)."""

    def get(self, chunk_id: int, key: str) -> bytes | None: ...

    def put(self, chunk_id: int, key: str, data: bytes) -> None: ...

    def has(self, chunk_id: int, key: str) -> bool: ...


@runtime_checkable
class PassageReader(Protocol):
    """A backend that can read each passage once and reuse what it computed."""

    def stream_passages(
        self, prompt: PassagePrompt, how: Generation, states: StateCache | None
    ) -> Iterator[str]:
        """Yield the reply to `prompt`; with `states`, the passages' stored states are
        restored instead of read (and the missing ones read alone and stored)."""
        ...

    def read_passages(self, prompt: PassagePrompt, states: StateCache) -> int:
        """Read each passage of `prompt` whose state is not stored, alone, and store
        its state; how many were read."""
        ...


def stream_prompt(
    llm: ChatModel, prompt: PassagePrompt, how: Generation, states: StateCache | None
) -> Iterator[str]:
    """The reply to `prompt` from any backend: through its passage states when it
    keeps them and they are on, else as plain messages (read as before states came)."""
    if states is not None and isinstance(llm, PassageReader):
        return llm.stream_passages(prompt, how, states)
    return llm.stream(prompt.messages(), how)
