"""`rag serve`: one process with the chat UI (/chat), the API (/api, /v1), the widget
(/widget.js, /widget/panel), the source viewer (/source) and a health check (/health)."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse

from rag.interfaces.server.api import build_api
from rag.interfaces.server.gate import AnswerGate
from rag.interfaces.server.kb_api import UPLOAD_PATH, build_kb_api
from rag.interfaces.server.pages import build_pages
from rag.interfaces.server.security import (
    AccessTokenMiddleware,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    origin_regex,
)
from rag.service import RagService


def gate_from_settings(service: RagService) -> AnswerGate:
    s = service.settings
    return AnswerGate(s.max_concurrent_answers, s.queue_timeout_s, s.max_waiting)


def create_app(
    service: RagService, gate: AnswerGate | None = None, *, chat_ui: bool = True
) -> FastAPI:
    settings = service.settings
    gate = gate or gate_from_settings(service)
    app = FastAPI(title="jinan-rag", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            {"error": f"请求格式不对（{where}: {first.get('msg', 'invalid')}）。"},
            status_code=400,
        )

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/chat/")

    app.include_router(build_api(service, gate))
    app.include_router(build_kb_api(service))
    app.include_router(build_pages(settings))
    if chat_ui:
        import gradio as gr

        @app.post("/chat/gradio_api/upload", include_in_schema=False)
        def no_uploads() -> JSONResponse:
            # The knowledge-base panel uploads through /api/kb/{kb}/documents, with its
            # checks; Gradio's own upload route would write any number of files into its
            # temp folder, token or not.
            return JSONResponse(
                {"error": "请在“知识库管理”里上传，或用 POST /api/kb/{kb}/documents。"},
                status_code=403,
            )

        from rag.interfaces.server.chat_ui import CSS, build_chat_ui

        app = gr.mount_gradio_app(
            app,
            build_chat_ui(service, gate),
            path="/chat",
            footer_links=["api"],
            css=CSS,
            # system fonts: the default theme fetches web fonts, and an intranet has no CDN
            theme=gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["monospace"]),
        )

    # The last added runs first: CORS answers preflights and labels even refusals, and
    # every response, a 401 or 413 too, carries the security headers
    app.add_middleware(
        AccessTokenMiddleware, token=settings.access_token, admin_token=settings.admin_token
    )
    # an upload may hold several files of up to max_upload_bytes; each is checked alone
    upload_bytes = settings.max_upload_bytes * settings.max_upload_files + (1 << 20)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        larger={UPLOAD_PATH: max(upload_bytes, settings.max_request_bytes)},
    )
    app.add_middleware(SecurityHeadersMiddleware, origins=settings.embed_origins)
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=origin_regex(settings.embed_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
    )
    return app


def warm_up(service: RagService) -> None:
    """Load the index, the embedder and the language model before the first question."""
    started = time.perf_counter()
    try:
        service.search("warm-up", 1)
        _ = service.llm
    except Exception as exc:  # the server still serves; the first request reports it
        print(f"warm-up failed: {exc}", file=sys.stderr, flush=True)
        return
    print(f"Models ready in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def serve(service: RagService, host: str, port: int) -> None:
    gate = gate_from_settings(service)
    app = create_app(service, gate)
    threading.Thread(target=warm_up, args=(service,), daemon=True).start()
    print(f"Chat: http://{host}:{port}/chat/   Widget demo: http://{host}:{port}/demo", flush=True)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    StoppingServer(config, gate).run()


class StoppingServer(uvicorn.Server):
    """uvicorn that cancels every answer when told to stop (SIGTERM, Ctrl-C): uvicorn
    waits for open responses to finish, and an answer streaming for a minute, or a
    request waiting in line for five, would hold the exit that long."""

    def __init__(self, config: uvicorn.Config, gate: AnswerGate):
        super().__init__(config)
        self.gate = gate

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.gate.close()
        super().handle_exit(sig, frame)
