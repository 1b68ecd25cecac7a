"""One answering stream for every front end (chat UI, REST, OpenAI-compatible, widget).

It turns the pipeline's events into plain dicts, puts the request through the shared
queue first, and turns every failure into an "error" event with a message a user can act
on. Tracebacks go to the server log, never to a user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer.question import BadQuestionError, check_question
from rag.knowledge_base import KnowledgeBaseError
from rag.llm.base import ChatMessage, LLMError
from rag.server.gate import AnswerGate, QueueFullError, QueueTimeoutError
from rag.service import RagService

log = logging.getLogger("rag.server")

Event = dict[str, Any]

MESSAGES = {
    "busy": {
        "zh": "服务器正忙：已有 {n} 个请求在排队，请稍后再试。",
        "en": "The server is busy: {n} requests are already waiting. Try again shortly.",
    },
    "timeout": {
        "zh": "等待超时：排队超过 {s:.0f} 秒仍未轮到，请稍后再试。",
        "en": "Timed out: waited more than {s:.0f} s in the queue. Try again shortly.",
    },
    "internal": {
        "zh": "内部错误（{kind}），回答没有完成。详情在服务器日志里，请重试或联系管理员。",
        "en": "Internal error ({kind}); the answer did not finish. The server log has details.",
    },
}


def message(key: str, language: str, **values: Any) -> str:
    return MESSAGES[key]["en" if language == "en" else "zh"].format(**values)


@dataclass(frozen=True)
class AskRequest:
    question: str
    history: Sequence[ChatMessage] = ()
    kb: str | None = None
    language: str = "zh"  # of the interface, for error messages


def validate(service: RagService, request: AskRequest) -> AskRequest:
    """Check the question before anything streams, so an API can answer 400."""
    question = check_question(request.question, service.settings.max_question_chars)
    service.kb_name(request.kb)  # a bad name is refused here, not mid-stream
    return AskRequest(question, request.history, request.kb, request.language)


def answer_events(service: RagService, gate: AnswerGate, request: AskRequest) -> Iterator[Event]:
    """queued* -> started -> (token | replace)* -> done, or an error event at any point."""
    lang = request.language
    try:
        ticket = gate.join()
    except QueueFullError:
        yield {"type": "error", "code": "busy", "message": message("busy", lang, n=gate.waiting)}
        return
    try:
        for place in ticket.wait():
            yield {"type": "queued", "position": place}
        yield {"type": "started"}
        pipeline = service.answer_pipeline(request.kb)
        for event in pipeline.stream(request.question, request.history):
            if event.kind == "done" and event.answer is not None:
                yield {"type": "done", **event.answer.to_json()}
            else:
                yield {"type": event.kind, "text": event.text}
    except QueueTimeoutError:
        yield {
            "type": "error",
            "code": "timeout",
            "message": message("timeout", lang, s=gate.timeout_s),
        }
    except BadQuestionError as exc:
        yield {"type": "error", "code": "bad_question", "message": exc.message(lang)}
    except (KnowledgeBaseError, LLMError) as exc:
        yield {"type": "error", "code": "unavailable", "message": str(exc)}
    except Exception as exc:
        log.exception("answering %r failed", request.question[:80])
        kind = type(exc).__name__
        yield {"type": "error", "code": "internal", "message": message("internal", lang, kind=kind)}
    finally:
        ticket.leave()


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
