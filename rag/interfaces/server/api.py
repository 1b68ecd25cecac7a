"""The HTTP API: REST (/api/...) and OpenAI-compatible (/v1/...).

`POST /api/ask` streams NDJSON, one event per line (see answers.AnswerJob);
`POST /v1/chat/completions` speaks OpenAI's format, streaming as SSE, with the
citations in an extra `citations` field so plain chat clients still work.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from rag.errors import BadQuestionError, EmptyQueryError, KnowledgeBaseError, LoaderError
from rag.interfaces.server.answers import (
    AnswerJob,
    AskRequest,
    content_text,
    event_json,
    history_from_messages,
)
from rag.interfaces.server.answers import validate as validate_request
from rag.interfaces.server.gate import AnswerGate
from rag.interfaces.server.responses import CompletedAnswer, StreamedAnswer
from rag.service import RagService
from rag.types import Answer, AnswerEvent, Done, Failed, Queued, Replace, Token

SOURCE_CONTEXT_CHARS = 800  # of the document either side of a cited span
SQLITE_MAX_INT = 2**63 - 1  # ids beyond it are refused (400), not passed to SQLite (500)
# HTTP status of an answer's error event, when it can still be sent as one
ERROR_STATUS = {
    "bad_question": 400,
    "busy": 503,
    "timeout": 503,
    "stopping": 503,
    "unavailable": 503,
}


class Turn(BaseModel):
    role: str
    content: str = Field(max_length=20_000)


class AskBody(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list, max_length=40)
    kb: str | None = None
    language: str = "zh"


class OpenAIBody(BaseModel):
    model: str = "jinan-rag"
    messages: list[dict[str, Any]] = Field(min_length=1, max_length=80)
    stream: bool = False
    kb: str | None = None  # an extension; "model": "rag:<kb>" works too


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def build_api(service: RagService, gate: AnswerGate) -> APIRouter:
    router = APIRouter()
    settings = service.settings

    @router.api_route("/health", methods=["GET", "HEAD"])
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "knowledge_bases": service.knowledge_bases(),
            "queue": {"active": gate.active, "waiting": gate.waiting, "limit": gate.limit},
        }

    @router.get("/api/kbs")
    def kbs() -> dict[str, Any]:
        return {"knowledge_bases": service.knowledge_bases(), "default": settings.kb}

    @router.get("/api/suggestions")
    def suggestions(kb: str | None = None) -> dict[str, Any]:
        """Questions the knowledge base answers from its own passages (rag kb suggest)."""
        return {"questions": service.suggested_questions(kb)}

    @router.get("/api/search", response_model=None)
    def search(
        q: str = Query(max_length=20_000), k: int = Query(5, ge=1, le=50), kb: str | None = None
    ) -> dict[str, Any] | JSONResponse:
        try:
            hits = service.search(q, k, kb)
        except (EmptyQueryError, KnowledgeBaseError) as exc:
            return error(400, str(exc))
        return {"query": q, "hits": [h.to_json() for h in hits]}

    @router.post("/api/ask", response_model=None)
    def ask(body: AskBody) -> StreamedAnswer | JSONResponse:
        history = history_from_messages([t.model_dump() for t in body.history])
        request = AskRequest(body.question, history, body.kb, body.language)
        try:
            request = validate_request(service, request)
        except BadQuestionError as exc:
            return error(400, exc.message(body.language))
        except KnowledgeBaseError as exc:
            return error(400, str(exc))
        return StreamedAnswer(
            AnswerJob(service, gate, request),
            lambda events: ndjson(events, request.language),
            "application/x-ndjson",
        )

    @router.get("/api/source", response_model=None)
    def source(
        chunk: int = Query(ge=0, le=SQLITE_MAX_INT),
        kb: str | None = None,
        start: int | None = Query(None, ge=0, le=SQLITE_MAX_INT),
        end: int | None = Query(None, ge=0, le=SQLITE_MAX_INT),
    ) -> dict[str, Any] | JSONResponse:
        """The cited span and the document text around it (chunk ids only)."""
        try:
            passage = service.source_passage(chunk, start, end, SOURCE_CONTEXT_CHARS, kb)
        except KnowledgeBaseError as exc:
            return error(404, str(exc))
        if passage is None:
            return error(404, f"没有编号为 {chunk} 的段落（知识库 {service.kb_name(kb)}）。")
        return passage.to_json()

    @router.get("/api/page", response_model=None)
    def page(
        chunk: int = Query(ge=0, le=SQLITE_MAX_INT),
        kb: str | None = None,
        start: int | None = Query(None, ge=0, le=SQLITE_MAX_INT),
        end: int | None = Query(None, ge=0, le=SQLITE_MAX_INT),
    ) -> Response:
        """The PDF page a cited span starts on, as a PNG with the span highlighted."""
        try:
            png = service.page_image(chunk, start, end, kb)
        except (KnowledgeBaseError, LoaderError) as exc:
            return error(404, str(exc))
        if png is None:
            return error(404, f"段落 {chunk} 没有可显示的页面（不是 PDF，或原文件已移走）。")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private"})

    @router.get("/v1/models")
    def models() -> dict[str, Any]:
        names = service.knowledge_bases()
        return {
            "object": "list",
            "data": [{"id": "jinan-rag", "object": "model", "owned_by": "local"}]
            + [{"id": f"rag:{n}", "object": "model", "owned_by": "local"} for n in names],
        }

    @router.post("/v1/chat/completions", response_model=None)
    def chat_completions(body: OpenAIBody) -> StreamedAnswer | CompletedAnswer | JSONResponse:
        *earlier, last = body.messages
        kb = body.kb or (body.model[4:] if body.model.startswith("rag:") else None)
        request = AskRequest(content_text(last.get("content")), history_from_messages(earlier), kb)
        try:
            request = validate_request(service, request)
        except BadQuestionError as exc:
            return openai_error(400, exc.message("zh"))
        except KnowledgeBaseError as exc:
            return openai_error(400, str(exc))
        job = AnswerJob(service, gate, request)
        if body.stream:
            return StreamedAnswer(
                job, lambda events: openai_chunks(events, body.model), "text/event-stream"
            )
        return CompletedAnswer(job, lambda events: openai_completion(events, body.model))

    return router


async def ndjson(events: AsyncIterator[AnswerEvent], language: str) -> AsyncIterator[str]:
    async for event in events:
        yield json.dumps(event_json(event, language), ensure_ascii=False) + "\n"


def openai_error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error"}}, status_code=status
    )


def _final_fields(answer: Answer) -> dict[str, Any]:
    done = answer.to_json()
    return {key: done[key] for key in ("citations", "refused", "retrieved", "timings")}


async def openai_completion(events: AsyncIterator[AnswerEvent], model: str) -> JSONResponse:
    async for event in events:
        if isinstance(event, Failed):
            return JSONResponse(
                {"error": {"message": event.error.message("zh"), "type": event.error.code}},
                status_code=ERROR_STATUS.get(event.error.code, 500),
            )
        if isinstance(event, Done):
            return JSONResponse(
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": event.answer.text},
                            "finish_reason": "stop",
                        }
                    ],
                    **_final_fields(event.answer),
                }
            )
    return openai_error(500, "the answer ended without a result")


async def openai_chunks(events: AsyncIterator[AnswerEvent], model: str) -> AsyncIterator[str]:
    """SSE chunks. A plain client cannot take back text, so when the checks retract a
    streamed answer the retraction and the refusal arrive as one more delta."""
    ident = f"chatcmpl-{uuid.uuid4().hex}"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant"})
    async for event in events:
        match event:
            case Queued(position):
                yield f": queued, position {position}\n\n"
            case Token(text):
                yield chunk({"content": text})
            case Replace(text, withdrawn=True):
                yield chunk({"content": "\n\n——以上内容未通过核对，已撤回——\n\n" + text})
            case Replace():
                pass  # the same answer with citations added: they come in the last chunk
            case Failed(error):
                yield chunk({"content": error.message("zh")}, "stop", error=event_json(event))
            case Done(answer):
                yield chunk({}, "stop", **_final_fields(answer))
    yield "data: [DONE]\n\n"
