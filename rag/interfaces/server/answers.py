"""One answering stream for every front end (chat UI, REST, OpenAI-compatible, widget).

An `AnswerJob` is one question's whole life on the server: its place in the shared
queue, the answer generated in a worker thread, and the events a front end reads. A
front end holds the job in a `with` (or `async with`) block, so however the request
ends (the answer is done, the client went away, the server is stopping) the job is
closed: the model stops and the queue place is free before `close()` returns.

The events are typed (`rag.types.AnswerEvent`); every failure becomes a `Failed` event
holding a `RagError` a user can act on. Tracebacks go to the server log, never to a user.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from rag.errors import Cancelled, InternalError, QueueClosedError, QueueFullError, RagError
from rag.interfaces.server.gate import AnswerGate, Ticket
from rag.service import RagService
from rag.types import (
    AnswerEvent,
    ChatMessage,
    Done,
    Failed,
    Queued,
    Reading,
    Replace,
    Started,
    Token,
)

log = logging.getLogger("rag.server")


@dataclass(frozen=True)
class AskRequest:
    question: str
    history: Sequence[ChatMessage] = ()
    kb: str | None = None
    language: str = "zh"  # of the interface, for error messages


def validate(service: RagService, request: AskRequest) -> AskRequest:
    """Check the question and the knowledge base before anything queues or streams, so
    an API can answer 400 and a bad request never takes a place in line."""
    question = service.check_request(request.question, request.kb)
    return AskRequest(question, request.history, request.kb, request.language)


_END = object()  # after the last event
CLOSE_WAIT_S = 5.0  # for the worker to stop before close() frees the place regardless


class AnswerJob:
    """queued* -> started -> (token | replace)* -> done, or an error event at any point.

    Iterate it (`for` or `async for`) once to run it; close it, or use it as a context
    manager, to end it. Closing cancels: the queue wait, the pipeline and the model stop
    on the ticket's signal within milliseconds (llama.cpp checks it between the steps of
    every computation)."""

    def __init__(self, service: RagService, gate: AnswerGate, request: AskRequest):
        self._service = service
        self._request = request
        self._ticket: Ticket | None = None
        self._refusal: Failed | None = None
        self._thread: threading.Thread | None = None
        try:
            self._ticket = gate.join()
        except (QueueFullError, QueueClosedError) as exc:
            self._refusal = Failed(exc)
        self._gate = gate

    # ---------------------------------------------------------------- reading

    def __iter__(self) -> Iterator[AnswerEvent]:
        inbox: queue.Queue[Any] = queue.Queue()
        self._start(inbox.put)
        while (item := inbox.get()) is not _END:
            yield item

    async def __aiter__(self) -> AsyncIterator[AnswerEvent]:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[Any] = asyncio.Queue()

        def deliver(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(inbox.put_nowait, item)
            except RuntimeError:  # the loop is gone: the server has stopped
                if self._ticket is not None:
                    self._ticket.cancel_now()

        self._start(deliver)
        while (item := await inbox.get()) is not _END:
            yield item

    # ---------------------------------------------------------------- ending

    def close(self) -> None:
        """Cancel the request and free its place; safe to call more than once."""
        if self._ticket is None:
            return
        self._ticket.cancel_now()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(CLOSE_WAIT_S)
            if self._thread.is_alive():
                log.warning("an answer did not stop within %.0f s of its cancel", CLOSE_WAIT_S)
        self._ticket.leave()

    async def aclose(self) -> None:
        if self._ticket is not None:
            self._ticket.cancel_now()  # at once, even when this task is being cancelled
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> AnswerJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> AnswerJob:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---------------------------------------------------------------- the worker

    def _start(self, deliver: Callable[[Any], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("an AnswerJob is read once")
        self._thread = threading.Thread(
            target=self._run, args=(deliver,), name="answer", daemon=True
        )
        self._thread.start()

    def _run(self, deliver: Callable[[Any], None]) -> None:
        try:
            if self._refusal is not None or self._ticket is None:
                deliver(self._refusal)
                return
            for event in self._events(self._ticket):
                deliver(event)
        except Cancelled:
            if self._gate.closed:  # the client is still there: tell it why
                deliver(Failed(QueueClosedError()))
        finally:
            if self._ticket is not None:
                self._ticket.leave()
            deliver(_END)

    def _events(self, ticket: Ticket) -> Iterator[AnswerEvent]:
        request = self._request
        try:
            for place in ticket.wait():
                yield Queued(place)
            yield Started()
            yield from self._service.stream(
                request.question, request.history, request.kb, ticket.cancel
            )
        except Cancelled:
            raise
        except RagError as exc:
            yield Failed(exc)
        except Exception as exc:
            log.exception("answering %r failed", request.question[:80])
            yield Failed(InternalError(kind=type(exc).__name__))


def event_json(event: AnswerEvent, language: str = "zh") -> dict[str, Any]:
    """An event as JSON: one line of /api/ask's NDJSON, the widget's and gradio_client's
    wire format."""
    match event:
        case Queued(position):
            return {"type": "queued", "position": position}
        case Started():
            return {"type": "started"}
        case Reading():
            return {"type": "reading", "passages": event.to_json()}
        case Token(text):
            return {"type": "token", "text": text}
        case Replace(text, withdrawn):
            return {"type": "replace", "text": text, "withdrawn": withdrawn}
        case Done(answer):
            return {"type": "done", **answer.to_json()}
        case Failed(error):
            return {"type": "error", "code": error.code, "message": error.message(language)}
    raise TypeError(f"not an answer event: {event!r}")


def history_from_messages(messages: Sequence[dict[str, Any]]) -> list[ChatMessage]:
    """OpenAI/Gradio-style [{role, content}] -> ChatMessage, user and assistant turns only."""
    history = []
    for m in messages:
        role, content = m.get("role"), m.get("content")
        if role in ("user", "assistant"):
            history.append(ChatMessage(str(role), content_text(content)))
    return history


def content_text(content: Any) -> str:
    """A message's text: a string, or OpenAI's list of {"type": "text", "text": ...} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)
