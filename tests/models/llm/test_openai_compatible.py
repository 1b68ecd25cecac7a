"""The OpenAI-compatible backend against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from rag.errors import LLMError
from rag.models.llm.base import Generation
from rag.models.llm.openai_compatible import OpenAICompatibleChatModel
from rag.types import ChatMessage


class _Handler(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.received.append({"body": body, "auth": self.headers.get("Authorization")})
        if body["model"] == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"model crashed")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ["制造业", "外资占比", "15%[1]。"]:
            chunk = {"choices": [{"delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_streams_deltas_and_sends_the_request(server: str) -> None:
    model = OpenAICompatibleChatModel(server, "qwen", api_key="secret")
    pieces = list(model.stream([ChatMessage("user", "问题")], Generation(50)))
    assert pieces == ["制造业", "外资占比", "15%[1]。"]
    sent = _Handler.received[-1]
    assert sent["auth"] == "Bearer secret"
    assert sent["body"]["stream"] is True and sent["body"]["max_tokens"] == 50
    assert sent["body"]["messages"] == [{"role": "user", "content": "问题"}]


def test_server_error_is_a_clear_error(server: str) -> None:
    model = OpenAICompatibleChatModel(server, "broken")
    with pytest.raises(LLMError, match="answered 500"):
        list(model.stream([ChatMessage("user", "问题")], Generation(5)))


def test_unreachable_server_is_a_clear_error() -> None:
    model = OpenAICompatibleChatModel("http://127.0.0.1:9/v1", "qwen", timeout=2)
    with pytest.raises(LLMError, match="cannot reach"):
        list(model.stream([ChatMessage("user", "问题")], Generation(5)))
