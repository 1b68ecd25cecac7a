"""What the server checks on every request: body size, the access token, and which
origins may embed it (CSP frame-ancestors) or call it from their pages (CORS)."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "rag_token"
# Reachable without a token: what a page needs to learn that it needs one
PUBLIC_PATHS = ("/health", "/widget.js", "/widget/config", "/widget/static/", "/demo")


def origin_regex(origins: Sequence[str]) -> str:
    """["http://localhost:*"] -> a regex for CORS; "*" matches within a host or port."""
    if "*" in origins:
        return ".*"
    parts = [re.escape(o.rstrip("/")).replace(r"\*", r"[A-Za-z0-9.-]*") for o in origins]
    return "|".join(f"(?:{p})" for p in parts) or "(?!)"


def frame_ancestors(origins: Sequence[str]) -> str:
    if "*" in origins:
        return "frame-ancestors *"
    return " ".join(["frame-ancestors 'self'", *(o.rstrip("/") for o in origins)])


# Our pages load nothing from elsewhere: an image or script a document or an answer
# smuggles in (a tracking pixel, a leak) is blocked by the browser before any request.
# Gradio needs inline scripts and styles, and its HTML component compiles templates
# with Function() ('unsafe-eval', on the chat's pages only); all else is our own.
def content_security_policy(origins: Sequence[str], *, gradio: bool = False) -> str:
    scripts = "'self' 'unsafe-inline'" + (" 'unsafe-eval'" if gradio else "")
    return (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
        f"font-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src {scripts}; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; {frame_ancestors(origins)}"
    )


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for a body over the limit, whether it says its length or streams it."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        # paths (regular expressions) allowed bigger bodies: uploads
        self.larger = [(re.compile(p), n) for p, n in (larger or {}).items()]

    def limit(self, path: str) -> int:
        return next((n for p, n in self.larger if p.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        too_large = refused = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                too_large = True
                raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # the app may catch _TooLarge and answer something else: answer 413 instead
            nonlocal refused
            if not too_large:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(send, limit)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not refused:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        await _send_json(
            send,
            413,
            {"error": f"请求太大：上限 {limit} 字节。 (Request body over {limit} bytes.)"},
        )


class AccessTokenMiddleware:
    """With a token set, everything but PUBLIC_PATHS wants it: as a Bearer header, a
    `token` query parameter (an iframe or link cannot send headers) or the cookie that
    such a link leaves behind, so the chat UI's own requests carry it too."""

    def __init__(self, app: ASGIApp, token: str | None, admin_token: str | None = None):
        self.app = app
        self.token = token
        self.admin_token = admin_token  # an admin may do all a reader may

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.token:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if scope.get("method") == "OPTIONS" or path.startswith(PUBLIC_PATHS):
            await self.app(scope, receive, send)
            return
        via_query = _query_token(scope)
        if self._valid(via_query):
            await self.app(scope, receive, self._set_cookie(send))
            return
        admin = dict(scope["headers"]).get(b"x-admin-token", b"").decode("latin-1") or None
        if (
            self._valid(_header_token(scope))
            or self._valid(_cookie_token(scope))
            or self._valid(admin, self.admin_token)
            or self._valid(_header_token(scope), self.admin_token)
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        await _send_json(
            send,
            401,
            {
                "error": "需要访问令牌：请在地址后加 ?token=…，或在请求头里发送"
                " Authorization: Bearer …。 (An access token is required.)"
            },
        )

    def _valid(self, candidate: str | None, token: str | None = None) -> bool:
        token = token or self.token
        return (
            candidate is not None
            and token is not None
            and hmac.compare_digest(candidate.encode(), token.encode())
        )

    def _set_cookie(self, send: Send) -> Send:
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Lax".encode()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message["headers"], (b"set-cookie", cookie)]}
            await send(message)

        return send_with_cookie


def _header_token(scope: Scope) -> str | None:
    value = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _cookie_token(scope: Scope) -> str | None:
    raw = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
    cookie = SimpleCookie()
    try:
        cookie.load(raw)
    except Exception:
        return None
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel else None


class SecurityHeadersMiddleware:
    """What our pages may load and who may frame them; no MIME sniffing."""

    def __init__(self, app: ASGIApp, origins: Sequence[str], gradio_path: str = "/chat"):
        self.app = app
        self.csp = content_security_policy(origins).encode()
        self.gradio_csp = content_security_policy(origins, gradio=True).encode()
        self.gradio_path = gradio_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = scope.get("path", "")
        gradio = path == self.gradio_path or path.startswith(self.gradio_path + "/")
        csp = self.gradio_csp if gradio else self.csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message["headers"]
                    if k.lower() not in (b"x-frame-options", b"content-security-policy")
                ]
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
