"""Managing knowledge bases over HTTP (/api/kb...): create, list, delete, upload
documents with per-file results, delete a document, re-index.

Reading stays open as the rest of the API is. Changing wants the admin token when
`RAG_ADMIN_TOKEN` is set (X-Admin-Token, or Bearer), and otherwise a client on this
machine; never a page of another site (a browser's form post needs no CORS consent).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import queue
import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from rag.errors import KnowledgeBaseError, RagError
from rag.ingest.uploads import FileResult, overall_status
from rag.interfaces.server.api import SQLITE_MAX_INT, error
from rag.service import RagService
from rag.settings import Settings
from rag.store.knowledge_base import validate_kb_name
from rag.store.uploads import Received

UPLOAD_PATH = r"^/api/kb/[^/]+/documents$"  # the one route whose bodies may be large
NDJSON = "application/x-ndjson"


class NewKnowledgeBase(BaseModel):
    name: str


def change_refused(request: Request, settings: Settings) -> JSONResponse | None:
    """Why this request may not change a knowledge base, as the response; None if it may."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if site == "cross-site" or (origin and origin.split("://", 1)[-1] != request.url.netloc):
        return error(403, "不接受来自其他网站页面的管理请求。 (Not from another site's page.)")
    given = request.headers.get("x-admin-token") or _bearer(request)
    host = request.client.host if request.client else ""
    if reason := why_not_change(host, given, settings):
        return error(401 if settings.admin_token else 403, reason)
    return None


def why_not_change(host: str, given_token: str | None, settings: Settings) -> str | None:
    """None if a client at `host` showing `given_token` may change knowledge bases; else
    what to do about it. The chat's panel asks the same."""
    if settings.admin_token:
        if given_token and hmac.compare_digest(given_token.encode(), settings.admin_token.encode()):
            return None
        return (
            "需要管理令牌：请求头 X-Admin-Token 或 Authorization: Bearer。"
            " (Changing knowledge bases needs the admin token.)"
        )
    if _loopback(host):
        return None
    return (
        "只有本机可以管理知识库；要从其他机器管理，请设置 RAG_ADMIN_TOKEN。"
        " (Only this machine may change knowledge bases unless RAG_ADMIN_TOKEN is set.)"
    )


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def build_kb_api(service: RagService) -> APIRouter:
    router = APIRouter()
    settings = service.settings

    def missing(kb: str) -> JSONResponse | None:
        """400 for a bad name, 404 for a knowledge base that does not exist."""
        try:
            validate_kb_name(kb)
        except KnowledgeBaseError as exc:
            return error(400, str(exc))
        if kb not in service.knowledge_bases():
            return error(404, f"没有知识库 {kb!r}。 (No knowledge base {kb!r}.)")
        return None

    @router.get("/api/kb")
    def list_kbs() -> dict[str, Any]:
        infos = [service.kb_info(name) for name in service.knowledge_bases()]
        return {
            "default": settings.kb,
            "knowledge_bases": [
                {
                    "name": i.name,
                    "documents": i.documents,
                    "chunks": i.chunks,
                    "embedding_model": i.embedding_model,
                    "passage_states": i.passage_states,
                }
                for i in infos
            ],
        }

    @router.post("/api/kb", response_model=None, status_code=201)
    def create_kb(body: NewKnowledgeBase, request: Request) -> dict[str, Any] | JSONResponse:
        if refused := change_refused(request, settings):
            return refused
        try:
            validate_kb_name(body.name)
        except KnowledgeBaseError as exc:
            return error(400, str(exc))
        try:
            info = service.create_kb(body.name)
        except KnowledgeBaseError as exc:
            return error(409, str(exc))
        return {"name": info.name, "documents": 0, "chunks": 0}

    @router.delete("/api/kb/{kb}", response_model=None)
    def delete_kb(kb: str, request: Request) -> dict[str, Any] | JSONResponse:
        if refused := change_refused(request, settings) or missing(kb):
            return refused
        service.delete_kb(kb)
        return {"deleted": kb}

    @router.get("/api/kb/{kb}/documents", response_model=None)
    def documents(kb: str) -> dict[str, Any] | JSONResponse:
        if refused := missing(kb):
            return refused
        return {"kb": kb, "documents": [d.to_json() for d in service.documents(kb)]}

    @router.post("/api/kb/{kb}/documents", response_model=None)
    def upload(
        kb: str, request: Request, files: Annotated[list[UploadFile], File()]
    ) -> StreamingResponse | JSONResponse:
        if refused := change_refused(request, settings) or missing(kb):
            return refused
        try:
            received = service.receive_uploads([(f.filename or "", f.file) for f in files], kb)
        except KnowledgeBaseError as exc:
            return error(400, str(exc))
        if NDJSON in request.headers.get("accept", ""):
            return StreamingResponse(_streamed(service, received, kb), media_type=NDJSON)
        results = service.index_uploads(received, kb)
        return JSONResponse(
            {"kb": kb, "results": [r.to_json() for r in results]},
            status_code=overall_status(results),
        )

    @router.delete("/api/kb/{kb}/documents/{doc_id}", response_model=None)
    def delete_document(kb: str, doc_id: int, request: Request) -> dict[str, Any] | JSONResponse:
        if refused := change_refused(request, settings) or missing(kb):
            return refused
        if not 0 <= doc_id <= SQLITE_MAX_INT:
            return error(404, f"no document {doc_id}")
        try:
            doc = service.delete_document(doc_id, kb)
        except KnowledgeBaseError as exc:
            return error(404, str(exc))
        return {"deleted": doc.to_json()}

    @router.post("/api/kb/{kb}/reindex", response_model=None)
    def reindex(kb: str, request: Request) -> dict[str, Any] | JSONResponse:
        if refused := change_refused(request, settings) or missing(kb):
            return refused
        try:
            report = service.reindex(kb, progress=False)
        except RagError as exc:
            return error(409, str(exc))
        return {
            "kb": kb,
            "summary": report.summary(),
            "failed": [{"file": p, "reason": r} for p, r in report.failed],
        }

    return router


def _streamed(service: RagService, received: list[Received | FileResult], kb: str) -> Iterator[str]:
    """Each file's progress and result as a line of JSON, then a summary line. The
    indexing runs in a thread of its own: a client that leaves does not stop it, the
    files it sent are still indexed."""
    lines: queue.Queue[FileResult | None] = queue.Queue()

    def run() -> None:
        try:
            service.index_uploads(received, kb, lines.put)
        except Exception as exc:  # the client is told, not left waiting
            lines.put(FileResult("", "failed", f"{type(exc).__name__}: {exc}", http_status=500))
        finally:
            lines.put(None)

    threading.Thread(target=run, name=f"upload-{kb}", daemon=True).start()
    results: list[FileResult] = []
    while (result := lines.get()) is not None:
        results.append(result)
        yield json.dumps(result.to_json(), ensure_ascii=False) + "\n"
    finals = [r for r in results if r.final]
    summary = {"done": True, "status": overall_status(finals), "files": len(finals)}
    yield json.dumps(summary) + "\n"
