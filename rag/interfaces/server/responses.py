"""HTTP responses that own an AnswerJob: the job lives exactly as long as its request.

Starlette's StreamingResponse notices a client that went away only when it next writes,
and a request waiting in line writes nothing for minutes; a sync generator it iterates
in a worker thread is never closed either. So these responses watch for the
disconnect themselves, for the whole life of the request, and close the job on any
way out: finished, disconnected, write failed, or cancelled by a stopping server.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from rag.interfaces.server.answers import AnswerJob
from rag.types import AnswerEvent

Render = Callable[[AsyncIterator[AnswerEvent]], AsyncIterator[str]]
Complete = Callable[[AsyncIterator[AnswerEvent]], Awaitable[Response]]


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


class _JobResponse(Response):
    def __init__(self, job: AnswerJob):
        self.job = job
        self.status_code = 200
        self.background = None
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.job, anyio.create_task_group() as group:
            group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
            # OSError: the client is gone (uvicorn raises ClientDisconnected on send)
            with contextlib.suppress(OSError):
                await self._respond(scope, receive, send)
            group.cancel_scope.cancel()

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class StreamedAnswer(_JobResponse):
    """The job's events as they come, each turned into text by `render` (NDJSON, SSE)."""

    def __init__(self, job: AnswerJob, render: Render, media_type: str):
        super().__init__(job)
        self.to_text = render
        self.raw_headers = [
            (b"content-type", f"{media_type}; charset=utf-8".encode()),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),  # a reverse proxy must not hold the stream back
        ]

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async for text in self.to_text(aiter(self.job)):
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class CompletedAnswer(_JobResponse):
    """One response once the answer is complete (a non-streaming OpenAI request); a
    client that leaves while it waits still ends the job."""

    def __init__(self, job: AnswerJob, complete: Complete):
        super().__init__(job)
        self.complete = complete

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.complete(aiter(self.job))
        await response(scope, receive, send)
