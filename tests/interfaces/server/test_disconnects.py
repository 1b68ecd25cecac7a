"""A client that goes away frees its place: queued, just started or mid-stream, through
NDJSON, the OpenAI route (streaming or not), the widget's 新对话 and a closed chat tab.
Each case checks /health comes back to `active: 0, waiting: 0` within 5 s and that the
model was told to stop. (The real model stopping mid-prompt: test_cancel_real_model.py.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rag.interfaces.server.app import create_app
from rag.service import RagService
from rag.settings import Settings
from tests.fakes.chat_model import FakeChatModel
from tests.interfaces.server.conftest import FAKE_ANSWER, LiveServer, fake_service, wait_until

QUESTION = "示范区新建多少个5G基站？"
FREED_WITHIN_S = 5.0


@pytest.fixture
def slow(settings: Settings) -> Iterator[LiveServer]:
    """A model as slow as the real one: 3 s to read the prompt, 0.3 s a piece."""
    service = fake_service(settings)
    service._llm = FakeChatModel(FAKE_ANSWER * 3, prompt_s=3.0, piece_s=0.3)
    with LiveServer(create_app(service, chat_ui=True)) as server:
        server.service = service
        yield server


def model_of(server: LiveServer) -> FakeChatModel:
    assert server.service is not None
    llm = server.service._llm
    assert isinstance(llm, FakeChatModel)
    return llm


def queue_state(server: LiveServer) -> dict[str, int]:
    return httpx.get(server.url + "/health", timeout=5).json()["queue"]


def freed(server: LiveServer) -> bool:
    return wait_until(
        lambda: (q := queue_state(server))["active"] == 0 and q["waiting"] == 0,
        timeout=FREED_WITHIN_S,
        every=0.1,
    )


def ask_and_drop(url: str, path: str, body: dict[str, Any], until: str) -> list[str]:
    """Stream a request, read lines until one contains `until`, then hang up."""
    seen: list[str] = []
    with httpx.Client(timeout=30) as client, client.stream("POST", url + path, json=body) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            seen.append(line)
            if until in line:
                break
        else:
            raise AssertionError(f"the stream ended before {until!r}: {seen}")
    return seen  # leaving both blocks closes the connection


NDJSON = ("/api/ask", {"question": QUESTION})
OPENAI = (
    "/v1/chat/completions",
    {"stream": True, "messages": [{"role": "user", "content": QUESTION}]},
)


@pytest.mark.parametrize(
    ("route", "until"),
    [
        pytest.param(NDJSON, '"started"', id="ndjson-started"),
        pytest.param(NDJSON, '"token"', id="ndjson-streaming"),
        pytest.param(OPENAI, '"role"', id="openai-started"),
        pytest.param(OPENAI, '"content"', id="openai-streaming"),
    ],
)
def test_a_client_that_hangs_up_mid_answer_frees_the_model(
    slow: LiveServer, route: tuple[str, dict[str, Any]], until: str
) -> None:
    path, body = route
    started = time.monotonic()
    ask_and_drop(slow.url, path, body, until)
    assert freed(slow), f"still {queue_state(slow)} {FREED_WITHIN_S} s after the client left"
    assert wait_until(lambda: model_of(slow).cancelled == 1, timeout=2)
    # and it stopped early: the full answer takes 3 s + 18 pieces x 0.3 s
    assert time.monotonic() - started < 3 + 18 * 0.3


@pytest.mark.parametrize("route", [NDJSON, OPENAI], ids=["ndjson-queued", "openai-queued"])
def test_a_client_that_hangs_up_while_queued_leaves_the_line(
    slow: LiveServer, route: tuple[str, dict[str, Any]]
) -> None:
    first: list[str] = []
    holder = threading.Thread(
        target=lambda: first.extend(ask_and_drop(slow.url, *NDJSON, until='"done"')), daemon=True
    )
    holder.start()
    assert wait_until(lambda: queue_state(slow)["active"] == 1)
    path, body = route
    ask_and_drop(slow.url, path, body, until="queued")
    assert wait_until(lambda: queue_state(slow)["waiting"] == 0, timeout=FREED_WITHIN_S)
    holder.join(30)
    assert json.loads(first[-1])["type"] == "done"  # the one who stayed got the answer
    assert freed(slow) and model_of(slow).cancelled == 0


def test_a_non_streaming_openai_client_that_gives_up_frees_the_model(slow: LiveServer) -> None:
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(slow.url + "/v1/chat/completions", json=body, timeout=1.0)
    assert freed(slow)
    assert wait_until(lambda: model_of(slow).cancelled == 1, timeout=2)


def test_waiters_that_leave_do_not_fill_the_queue(settings: Settings) -> None:
    """Before, every waiter that left kept its place: after 32 everyone got "busy"."""
    service = fake_service(settings)
    service._llm = FakeChatModel(FAKE_ANSWER, prompt_s=1.0)
    service.settings.max_waiting = 3
    with LiveServer(create_app(service, chat_ui=False)) as server:
        holder = threading.Thread(
            target=lambda: ask_and_drop(server.url, *NDJSON, until='"done"'), daemon=True
        )
        holder.start()
        assert wait_until(lambda: queue_state(server)["active"] == 1)
        for _ in range(6):  # twice the queue's size
            ask_and_drop(server.url, *NDJSON, until="queued")
        holder.join(30)
        lines = ask_and_drop(server.url, *NDJSON, until='"done"')
        assert json.loads(lines[-1])["type"] == "done"


def test_the_widget_new_chat_button_mid_answer_frees_the_model(
    slow: LiveServer, context: Any
) -> None:
    page = context.new_page()
    page.goto(slow.url + "/widget/panel?lang=zh")
    page.fill("#question", QUESTION)
    page.click("#send")
    assert wait_until(lambda: model_of(slow).calls != [] and queue_state(slow)["active"] == 1)
    page.wait_for_timeout(3500)  # past the prompt, into the stream
    page.click("#new-chat")
    assert freed(slow), f"still {queue_state(slow)} after 新对话"
    assert model_of(slow).cancelled == 1


def test_closing_the_chat_tab_mid_answer_frees_the_model(slow: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(slow.url + "/chat/")
    page.locator("#question textarea").fill(QUESTION)
    page.click("#send")
    assert wait_until(lambda: queue_state(slow)["active"] == 1, timeout=10)
    page.close()
    assert freed(slow), f"still {queue_state(slow)} after the tab closed"
    assert wait_until(lambda: model_of(slow).cancelled == 1, timeout=2)


def test_an_unknown_knowledge_base_is_refused_before_it_queues(ingested: RagService) -> None:
    with LiveServer(create_app(ingested, chat_ui=False)) as server:
        r = httpx.post(server.url + "/api/ask", json={"question": QUESTION, "kb": "nokb"})
        assert r.status_code == 400 and "nokb" in r.json()["error"]
        body = {"model": "rag:nokb", "messages": [{"role": "user", "content": QUESTION}]}
        r = httpx.post(server.url + "/v1/chat/completions", json=body)
        assert r.status_code == 400 and "nokb" in r.json()["error"]["message"]
        assert queue_state(server) == {"active": 0, "waiting": 0, "limit": 1}
