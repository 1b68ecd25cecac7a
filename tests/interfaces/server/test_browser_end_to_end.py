"""The chat UI and the widget in real Chromium with the bundled models and corpus:
ask, watch the answer stream, open the cited passage. Screenshots of each step go to
test-artifacts/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.interfaces.server.browser import wait_for_js
from tests.interfaces.server.conftest import LiveServer, StaticSite

pytestmark = pytest.mark.real_model

# Answered with a citation in the full eval run (eval/jinan_qa.jsonl jn-012, jn-006)
CHAT_QUESTION = "济南2021年打算沿黄河打造的生态风貌带有多长?"
CHAT_FACT = "183"
WIDGET_QUESTION = "2023年政府工作报告给济南定的研发投入强度目标是多少?"
WIDGET_FACT = "2.75"


def test_chat_ui_streams_a_cited_answer_that_opens_its_source(
    real_live: LiveServer, context: Any, screenshots: Path
) -> None:
    page = context.new_page()
    page.goto(real_live.url + "/chat/")
    page.fill("#question textarea", CHAT_QUESTION)
    page.screenshot(path=str(screenshots / "chat-1-question.png"))
    page.click("#send")

    bubble = page.locator("#chat .message-row").nth(1)
    lengths: list[int] = []
    deadline = time.monotonic() + 240
    while page.locator("#sources mark").count() == 0:
        assert time.monotonic() < deadline, "no cited answer within 240 s"
        text = bubble.inner_text() if bubble.count() else ""
        if CHAT_FACT in text and not lengths:
            page.screenshot(path=str(screenshots / "chat-2-streaming.png"))
        if text and (not lengths or len(text) != lengths[-1]):
            lengths.append(len(text))
        time.sleep(0.1)
    page.screenshot(path=str(screenshots / "chat-3-answer-with-sources.png"))
    assert len(lengths) >= 3, f"the answer did not stream: {lengths}"
    answer = bubble.inner_text()
    assert CHAT_FACT in answer
    sources = page.locator("#sources").inner_text()
    assert "183公里" in page.locator("#sources mark").first.inner_text(), sources

    with context.expect_page() as opened:
        bubble.locator("a[href^='/source']").first.click()
    source = opened.value
    source.wait_for_selector("#cited-span", timeout=15_000)
    assert "183公里" in source.locator("#cited-span").inner_text()
    name = source.locator("#source-name").inner_text()  # "title (file.txt)"
    assert name.endswith(".txt)") and name.split(" (")[0], name
    source.screenshot(path=str(screenshots / "chat-4-source-page.png"))


def test_widget_on_another_origin_gives_a_cited_answer(
    real_live: LiveServer,
    intranet: tuple[StaticSite, int],
    context: Any,
    screenshots: Path,
) -> None:
    site, _ = intranet
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{site.port}/index.html")
    wait_for_js(page, "window.__ragWidget && window.__ragWidget.status === 'ready'")
    page.screenshot(path=str(screenshots / "widget-1-intranet-page.png"))
    page.click("#rag-widget-button")
    frame = page.frame_locator("#rag-widget-frame")
    frame.locator("#question").fill(WIDGET_QUESTION)
    frame.locator("#send").click()
    frame.locator("#messages .cite").first.wait_for(timeout=240_000)
    page.screenshot(path=str(screenshots / "widget-2-answer.png"))
    assert WIDGET_FACT in frame.locator("#messages").inner_text()
    frame.locator("#messages .cite").first.click()
    frame.locator("#source-view #cited-span").wait_for()
    assert WIDGET_FACT in frame.locator("#source-view #cited-span").inner_text()
    page.screenshot(path=str(screenshots / "widget-3-source.png"))
