"""Issue 6 through the API: bad questions, tokens, body limits, origins, the source
viewer's reach, queue timeouts. Each test fails when its protection is removed."""

from __future__ import annotations

import json
import threading
from itertools import count

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.interfaces.server.app import create_app
from rag.interfaces.server.gate import AnswerGate
from rag.service import RagService
from tests.interfaces.server.conftest import LiveServer, holding

BAD_QUESTIONS = {
    "empty": ("", "空"),
    "whitespace": (" \t\n\u3000 ", "空"),
    "huge": ("济南" * 10_000, "太长"),
    "control": ("\x00\x07\x1b\x7f\x08\r\n", "空"),
    "emoji": ("😀🎉🔥👍", "没有文字"),
}


def client_for(service: RagService, **overrides: object) -> TestClient:
    for key, value in overrides.items():
        setattr(service.settings, key, value)
    return TestClient(create_app(service, chat_ui=False), raise_server_exceptions=False)


@pytest.mark.parametrize("name", list(BAD_QUESTIONS))
def test_bad_questions_get_a_clear_400(ingested: RagService, name: str) -> None:
    question, expected = BAD_QUESTIONS[name]
    client = client_for(ingested)
    for path, body in (
        ("/api/ask", {"question": question}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": question}]}),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        text = json.dumps(response.json(), ensure_ascii=False)
        assert expected in text and "Traceback" not in text
    assert ingested.llm.calls == []  # type: ignore[attr-defined]


def test_control_characters_inside_a_question_are_dropped(ingested: RagService) -> None:
    client = client_for(ingested)
    done = client.post("/api/ask", json={"question": "示范区\x00新建多少\x1b个5G基站？"})
    last = json.loads(done.text.splitlines()[-1])
    assert last["type"] == "done" and "\x00" not in last["question"]


def test_malformed_requests_say_what_is_wrong(ingested: RagService) -> None:
    client = client_for(ingested)
    response = client.post(
        "/api/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and "请求格式不对" in response.json()["error"]
    response = client.post("/api/ask", json={"question": "济南", "kb": "../../etc"})
    assert response.status_code == 400 and "invalid knowledge-base name" in response.json()["error"]


def test_request_bodies_over_the_limit_are_refused(ingested: RagService) -> None:
    client = client_for(ingested, max_request_bytes=10_000)
    big = {"question": "济南", "history": [{"role": "user", "content": "字" * 6000}]}
    response = client.post("/api/ask", json=big)
    assert response.status_code == 413 and "请求太大" in response.json()["error"]

    def chunked():  # no Content-Length: the limit still holds while reading
        for _ in range(20):
            yield b" " * 1000

    response = client.post(
        "/api/ask", content=chunked(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert client.post("/api/ask", json={"question": "5G基站有多少？"}).status_code == 200


def test_access_token_guards_the_api_and_widget(ingested: RagService) -> None:
    client = client_for(ingested, access_token="s3cret")
    ask = {"question": "示范区新建多少个5G基站？"}
    for method, path in (
        ("post", "/api/ask"),
        ("get", "/api/search?q=5G"),
        ("get", "/api/source?chunk=1"),
        ("post", "/v1/chat/completions"),
        ("get", "/widget/panel"),
        ("get", "/source?chunk=1"),
    ):
        body = ask if path == "/api/ask" else {"messages": [{"role": "user", "content": "5G"}]}
        response = client.request(method, path, json=body if method == "post" else None)
        assert response.status_code == 401, path
        assert "访问令牌" in response.json()["error"]
    wrong = client.post("/api/ask", json=ask, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.post("/api/ask", json=ask, headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200 and '"done"' in right.text
    # a link with ?token= works and leaves a cookie for the page's own requests
    page = client.get("/widget/panel?token=s3cret")
    assert page.status_code == 200 and "rag_token=s3cret" in page.headers["set-cookie"]
    assert client.get("/api/search?q=5G").status_code == 200  # now via the cookie
    # what a page needs before it has the token stays public
    assert TestClient(create_app(ingested, chat_ui=False)).get("/widget.js").status_code == 200
    assert client.get("/health").status_code == 200


def test_only_listed_origins_may_call_or_frame_it(ingested: RagService) -> None:
    client = client_for(
        ingested, embed_origins=["http://intranet.example:8080", "http://*.corp.example"]
    )
    allowed = client.get("/widget/config", headers={"Origin": "http://intranet.example:8080"})
    assert allowed.headers["access-control-allow-origin"] == "http://intranet.example:8080"
    sub = client.get("/widget/config", headers={"Origin": "http://wiki.corp.example"})
    assert sub.headers["access-control-allow-origin"] == "http://wiki.corp.example"
    for other in (
        "http://evil.example",
        "http://intranet.example:9999",
        "http://corp.example.evil.io",
    ):
        refused = client.get("/widget/config", headers={"Origin": other})
        assert "access-control-allow-origin" not in refused.headers, other
    preflight = client.options(
        "/api/ask",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    csp = client.get("/widget/panel").headers["content-security-policy"]
    assert csp.endswith(
        "; frame-ancestors 'self' http://intranet.example:8080 http://*.corp.example"
    )
    assert "img-src 'self' data: blob:;" in csp and "default-src 'self';" in csp


@pytest.mark.parametrize(
    "params",
    [
        {"chunk": "1", "kb": "../../etc"},
        {"chunk": "1", "kb": "/etc/passwd"},
        {"chunk": "1", "kb": "jinan/../../.."},
        {"chunk": "../../etc/passwd"},
        {"chunk": "999999"},
        {"chunk": "1", "kb": "nokb"},
    ],
)
def test_the_source_viewer_reads_nothing_outside_the_knowledge_base(
    ingested: RagService, params: dict[str, str]
) -> None:
    response = client_for(ingested).get("/api/source", params=params)
    assert response.status_code in (400, 404)
    assert "root:" not in response.text and "error" in response.json()


def test_a_span_outside_its_chunk_falls_back_to_the_chunk(ingested: RagService) -> None:
    client = client_for(ingested)
    hit = client.get("/api/search", params={"q": "5G基站"}).json()["hits"][0]
    body = client.get(
        "/api/source", params={"chunk": hit["chunk_id"], "start": 0, "end": 10**9}
    ).json()
    assert body["text"] == hit["text"]


def test_a_request_that_waits_too_long_gets_a_clear_timeout(ingested: RagService) -> None:
    gate = AnswerGate(limit=1, timeout_s=0.3)
    client = TestClient(create_app(ingested, gate, chat_ui=False))
    with holding(gate):  # someone else's answer holds the model
        response = client.post("/api/ask", json={"question": "示范区新建多少个5G基站？"})
        openai = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "5G基站？"}]}
        )
    last = json.loads(response.text.splitlines()[-1])
    assert last["type"] == "error" and last["code"] == "timeout" and "等待超时" in last["message"]
    assert openai.status_code == 503 and "等待超时" in openai.json()["error"]["message"]
    assert gate.waiting == 0 and gate.active == 0  # the timed-out requests left the line


def test_a_full_queue_says_busy(ingested: RagService) -> None:
    gate = AnswerGate(limit=1, timeout_s=5, max_waiting=0)
    client = TestClient(create_app(ingested, gate, chat_ui=False))
    last = json.loads(client.post("/api/ask", json={"question": "5G基站？"}).text.splitlines()[-1])
    assert last["code"] == "busy" and "服务器正忙" in last["message"]


def test_an_internal_failure_is_a_message_not_a_traceback(ingested: RagService) -> None:
    class Broken:
        model_id = "broken"

        def stream(self, messages, how):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError("boom")
            yield ""

    ingested._llm = Broken()  # type: ignore[assignment]
    client = client_for(ingested)
    last = json.loads(client.post("/api/ask", json={"question": "5G基站？"}).text.splitlines()[-1])
    assert last["code"] == "internal" and "ZeroDivisionError" in last["message"]
    assert "Traceback" not in last["message"] and "boom" not in last["message"]
    # and the queue is free again for the next user
    assert client.get("/health").json()["queue"]["active"] == 0


class Endless:
    """A backend that ignores max_tokens and never stops."""

    model_id = "endless"

    def __init__(self) -> None:
        self.pieces = 0
        self.closed = threading.Event()

    def stream(self, messages, how):  # type: ignore[no-untyped-def]
        if "改写" in messages[-1].content or "standalone" in messages[-1].content.lower():
            yield "示范区新建多少个5G基站？"
            return
        try:
            for _ in count():
                self.pieces += 1
                if self.pieces > 100_000:
                    raise AssertionError("the answer was never cut off")
                yield "示范区新建5G基站6000个[1]。"
        finally:
            self.closed.set()


def test_long_answers_stop_at_the_configured_maximum(ingested: RagService) -> None:
    ingested.settings.llm_max_tokens = 7
    ingested._llm = model = Endless()  # type: ignore[assignment]
    answer = ingested.ask("示范区新建多少个5G基站？")
    assert model.pieces == 7 and model.closed.is_set()
    assert answer.evidence["stopped"] == "max_tokens"


def test_a_stalled_generation_stops_at_the_answer_timeout(ingested: RagService) -> None:
    ingested.settings.llm_max_tokens = 10**9
    ingested.settings.answer_timeout_s = 0.2
    ingested._llm = model = Endless()  # type: ignore[assignment]
    answer = ingested.ask("示范区新建多少个5G基站？")
    assert answer.evidence["stopped"] == "timeout" and model.closed.is_set()


def test_gradio_upload_route_takes_no_files(ingested: RagService) -> None:
    with LiveServer(create_app(ingested)) as server:
        files = {"files": ("x.txt", b"A" * 1000, "text/plain")}
        r = httpx.post(server.url + "/chat/gradio_api/upload", files=files)
        assert r.status_code == 403 and "/api/kb/{kb}/documents" in r.json()["error"]
        assert "content-security-policy" in r.headers


def test_refusals_carry_the_security_headers(ingested: RagService) -> None:
    ingested.settings.access_token = "s3cret"
    ingested.settings.max_request_bytes = 100
    client = TestClient(create_app(ingested, chat_ui=False))
    unauthorised = client.get("/api/kbs")
    too_large = client.post("/api/ask?token=s3cret", content=b"x" * 1000)
    for response, status in ((unauthorised, 401), (too_large, 413)):
        assert response.status_code == status
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "params",
    [
        {"chunk": "9223372036854775808"},
        {"chunk": "-1"},
        {"chunk": "1", "start": "99999999999999999999"},
    ],
)
def test_out_of_range_ids_are_a_400(ingested: RagService, params: dict[str, str]) -> None:
    r = TestClient(create_app(ingested, chat_ui=False)).get("/api/source", params=params)
    assert r.status_code == 400 and "error" in r.json()
