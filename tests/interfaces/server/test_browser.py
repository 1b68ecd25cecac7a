"""The chat UI and the widget in real Chromium, with a scripted model: escaping of
hostile documents and answers, bad questions, origins that may not embed the widget.
(The same pages with the real models: test_browser_end_to_end.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.interfaces.server.app import create_app
from rag.interfaces.server.gate import AnswerGate
from rag.service import RagService
from rag.settings import Settings
from tests.interfaces.server.browser import wait_for_js
from tests.interfaces.server.conftest import (
    LiveServer,
    StaticSite,
    fake_service,
    free_port,
    write_demo_page,
)
from tests.interfaces.server.test_security import BAD_QUESTIONS

HOSTILE = (
    '网站公告写着<img src=x onerror="window.__pwned=1">和'
    "<script>window.__pwned=2</script>两段代码。"
)
HOSTILE_ANSWER = (
    '网站公告写着<img src=x onerror="window.__pwned=1">和'
    "<script>window.__pwned=2</script>两段代码[1]。"
)


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:"))
            else None
        ),
    )
    yield page
    assert outside == [], f"the page reached beyond this server: {outside}"  # no CDN


@pytest.fixture
def hostile_server(settings: Settings) -> Iterator[LiveServer]:
    (settings.corpus_dir / "notice.txt").write_text(HOSTILE, encoding="utf-8")
    with LiveServer(create_app(fake_service(settings, HOSTILE_ANSWER))) as server:
        yield server


def test_html_in_documents_and_answers_is_shown_as_text_in_the_chat_ui(
    hostile_server: LiveServer, page: Any, screenshots: Path
) -> None:
    page.goto(hostile_server.url + "/chat/")
    page.fill("#question textarea", "网站公告写了什么代码？")
    page.click("#send")
    page.wait_for_selector("#sources mark", timeout=30_000)
    bubble = page.locator("#chat .message-row").last
    assert "<script>window.__pwned=2</script>" in bubble.inner_text()
    assert "onerror=" in page.locator("#sources").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#chat img[src=x], #sources img[src=x]").count() == 0
    page.screenshot(path=str(screenshots / "xss-chat-ui.png"))


def test_html_in_documents_and_answers_is_shown_as_text_in_the_widget(
    hostile_server: LiveServer, page: Any, screenshots: Path
) -> None:
    page.goto(hostile_server.url + "/widget/panel?lang=zh")
    page.fill("#question", "网站公告写了什么代码？")
    page.click("#send")
    page.wait_for_selector("#messages .cite", timeout=30_000)
    assert "<script>window.__pwned=2</script>" in page.locator("#messages").inner_text()
    page.locator("#messages .cite").first.click()
    page.wait_for_selector("#source-view #cited-span")
    assert "onerror=" in page.locator("#source-view").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src=x]").count() == 0
    page.screenshot(path=str(screenshots / "xss-widget.png"))


def test_bad_questions_get_a_clear_message_in_the_chat_ui(
    live: LiveServer, page: Any, screenshots: Path
) -> None:
    page.goto(live.url + "/chat/")
    for turn, (name, (question, expected)) in enumerate(BAD_QUESTIONS.items()):
        page.fill("#question textarea", question)
        page.click("#send")
        reply = page.locator("#chat .message-row").nth(2 * turn + 1)
        reply.wait_for(timeout=15_000)
        assert expected in reply.inner_text(), name
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Error" not in body
    page.screenshot(path=str(screenshots / "bad-questions-chat-ui.png"))


def test_bad_questions_get_a_clear_message_in_the_widget(live: LiveServer, page: Any) -> None:
    page.goto(live.url + "/widget/panel")
    for name, (question, expected) in BAD_QUESTIONS.items():
        page.fill("#question", question)
        before = page.locator("#messages .error").count()
        page.click("#send")
        wait_for_js(
            page, f"document.querySelectorAll('#messages .error').length > {before}", timeout=15_000
        )
        assert expected in page.locator("#messages .error").last.inner_text(), name


def test_the_widget_does_not_load_on_an_origin_that_is_not_allowed(
    tmp_path: Path, settings: Settings, page: Any, screenshots: Path
) -> None:
    intranet_port = free_port()
    settings.embed_origins = [f"http://127.0.0.1:{intranet_port}"]
    with LiveServer(create_app(fake_service(settings))) as server:
        site = StaticSite(write_demo_page(tmp_path / "intranet", server.url), port=intranet_port)
        with site:
            # the allowed origin: the button appears and the iframe shows the chat
            page.goto(f"http://127.0.0.1:{intranet_port}/index.html")
            wait_for_js(page, "window.__ragWidget && window.__ragWidget.status === 'ready'")
            assert page.frame_locator("#assistant-iframe").locator("#question").count() == 1
            # the same page on an origin not listed: no button, no framed chat
            page.goto(f"http://localhost:{intranet_port}/index.html")
            wait_for_js(page, "window.__ragWidget && window.__ragWidget.status === 'refused'")
            assert page.locator("#rag-widget-button").count() == 0
            page.wait_for_timeout(500)
            assert page.frame_locator("#assistant-iframe").locator("#question").count() == 0
            page.screenshot(path=str(screenshots / "widget-refused-origin.png"))


def test_waiting_users_see_their_place_in_the_queue(
    ingested: Any, page: Any, screenshots: Path
) -> None:
    gate = AnswerGate(limit=1, timeout_s=60)
    with LiveServer(create_app(ingested, gate)) as server:
        page.goto(server.url + "/chat/")
        holder = gate.join()
        list(holder.wait())  # another user's answer is running
        try:
            page.fill("#question textarea", "示范区新建多少个5G基站？")
            page.click("#send")
            reply = page.locator("#chat .message-row").nth(1)
            reply.wait_for(timeout=15_000)
            wait_for_js(
                page, "document.querySelector('#chat').innerText.includes('排队中')", timeout=15_000
            )
            assert "前面还有 1 个请求" in reply.inner_text()
            page.screenshot(path=str(screenshots / "chat-queued.png"))
        finally:
            holder.leave()
        page.wait_for_selector("#sources mark", timeout=30_000)
        assert "6000" in reply.inner_text()


def test_english_interface_and_new_conversation(live: LiveServer, page: Any) -> None:
    page.goto(live.url + "/chat/")
    page.get_by_label("English").check()
    wait_for_js(page, "document.querySelector('#send').innerText.includes('Send')")
    assert "New conversation" in page.locator("#new-chat").inner_text()
    page.fill(
        "#question textarea", "示范区新建多少个5G基站？"
    )  # the UI, not the question, is English
    page.click("#send")
    page.wait_for_selector("#sources mark", timeout=30_000)
    assert "Sources" in page.locator("#sources").inner_text()
    page.click("#new-chat")
    wait_for_js(page, "document.querySelectorAll('#chat .message-row').length === 0")
    assert page.locator("#sources mark").count() == 0


def test_gradio_client_can_ask(live: LiveServer) -> None:
    from gradio_client import Client

    client = Client(live.url + "/chat/", verbose=False)
    result = client.predict("示范区新建多少个5G基站？", "jinan", api_name="/ask")
    assert result["type"] == "done" and "6000" in result["answer"]
    assert result["citations"][0]["source"] == "plan.txt"


def test_each_user_has_their_own_conversation(live: LiveServer, browser: Any) -> None:
    alice, bob = (browser.new_context() for _ in range(2))
    try:
        a, b = alice.new_page(), bob.new_page()
        a.goto(live.url + "/chat/")
        b.goto(live.url + "/chat/")
        a.fill("#question textarea", "示范区新建多少个5G基站？")
        a.click("#send")
        a.wait_for_selector("#sources mark", timeout=30_000)
        b.reload()
        b.wait_for_selector("#question textarea")
        assert b.locator("#chat .message-row").count() == 0
        assert b.locator("#sources mark").count() == 0
    finally:
        alice.close()
        bob.close()


class Collector:
    """A web server on another port that counts every request: the 'outside' that a
    document's image or link would leak to."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.port = free_port()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()


def test_markdown_images_and_links_in_answers_and_questions_load_nothing(
    settings: Settings, page: Any, screenshots: Path
) -> None:
    collector = Collector()
    outside = f"http://127.0.0.1:{collector.port}"
    image = f"![图]({outside}/collect.png?leak=answer)"
    links = f"链接 [点这里]({outside}/click) 和 {outside}/bare"
    # the notice holds the links too: an answer naming addresses no passage holds is refused
    (settings.corpus_dir / "notice.txt").write_text(f"公告配图{image}，{links}。", "utf-8")
    reply = f"公告配图{image}，{links}[1]。"
    try:
        with LiveServer(create_app(fake_service(settings, reply))) as server:
            page.goto(server.url + "/chat/")
            page.fill(
                "#question textarea", f"公告 ![q]({outside}/collect.png?leak=question) 配图？"
            )
            page.click("#send")
            bubble = page.locator("#chat .message-row").nth(1)
            wait_for_js(
                page,
                "document.querySelectorAll('#chat .message-row').length >= 2"
                " && document.querySelectorAll('#chat .message-row')[1].innerText.includes('bare')",
                timeout=30_000,
            )
            page.wait_for_timeout(500)
            assert page.locator("#chat img").count() == 0
            assert f"{outside}/bare" in bubble.inner_text()  # shown, as text
            assert page.locator(f'#chat a[href^="{outside}"]').count() == 0
            page.screenshot(path=str(screenshots / "markdown-image-chat-ui.png"))
            policy = httpx.get(server.url + "/chat/").headers["content-security-policy"]
            assert "img-src 'self' data: blob:" in policy
    finally:
        collector.close()
    assert collector.hits == []


def test_pdf_sources_show_title_and_page_in_chat_widget_and_viewer(
    settings: Settings, page: Any, screenshots: Path
) -> None:
    from tests.ingest.loaders.pdf_maker import write_manual_pdf

    write_manual_pdf(settings.corpus_dir / "manual.pdf")
    reply = "平台每天凌晨两点自动备份全部数据，备份文件保留三十天[1]。"
    where = "星河数据平台用户手册 (manual.pdf) · 第 4 页"
    with LiveServer(create_app(fake_service(settings, reply))) as server:
        page.goto(server.url + "/chat/")
        page.fill("#question textarea", "平台的备份文件保留多少天？")
        page.click("#send")
        page.wait_for_selector("#sources mark", timeout=30_000)
        assert where in page.locator("#sources").inner_text()
        page.screenshot(path=str(screenshots / "pdf-page-chat.png"))

        page.goto(server.url + "/widget/panel?lang=zh")
        page.fill("#question", "平台的备份文件保留多少天？")
        page.click("#send")
        page.wait_for_selector("#messages .sources li", timeout=30_000)
        assert where in page.locator("#messages .sources").inner_text()
        page.locator("#messages .cite").first.click()
        page.wait_for_selector("#source-view #cited-span")
        assert where in page.locator("#source-view-name").inner_text()
        assert "三十天" in page.locator("#source-view #cited-span").inner_text()
        href = page.locator("#source-open-new").get_attribute("href")

        with page.expect_response(lambda r: "/api/page?" in r.url) as rendered:
            page.goto(server.url + href)
        page.wait_for_selector("#source-text #cited-span")
        assert where in page.locator("#source-name").inner_text()
        # beside the text, page 4 as printed (rendered by the server), the span highlighted
        response = rendered.value
        assert response.status == 200 and response.headers["content-type"] == "image/png"
        assert response.body().startswith(b"\x89PNG")
        page.wait_for_selector("#source-page:not([hidden]) img[src*='/api/page']")
        assert "第 4 页" in page.locator("#source-page-caption").inner_text()
        page.screenshot(path=str(screenshots / "pdf-page-source-viewer.png"), full_page=True)


SUGGESTED = "新建<b>5G</b>基站多少个？"


@pytest.fixture
def suggesting_server(settings: Settings) -> Iterator[LiveServer]:
    from rag.answer.suggestions import Suggestion, to_json
    from rag.store.knowledge_base import KnowledgeBase

    service = fake_service(settings)
    kb = KnowledgeBase.open_existing(settings)
    made = [Suggestion(SUGGESTED, kb.snapshot().chunk_ids[0])]
    kb.catalog.set_meta("suggested_questions", to_json(made, kb.catalog.generation()))
    with LiveServer(create_app(service)) as server:
        yield server


def test_suggested_questions_are_offered_as_text_and_asked_on_a_click(
    suggesting_server: LiveServer, page: Any, screenshots: Path
) -> None:
    page.goto(suggesting_server.url + "/widget/panel?lang=zh")
    button = page.locator("#suggestions .suggestion")
    button.wait_for(timeout=15_000)
    assert button.inner_text() == SUGGESTED  # markup in a question stays text
    page.screenshot(path=str(screenshots / "suggestions-widget.png"))
    button.click()
    page.wait_for_selector("#messages .cite", timeout=30_000)
    assert SUGGESTED in page.locator("#messages").inner_text()
    assert page.locator("#suggestions").is_hidden()

    page.goto(suggesting_server.url + "/chat/")
    example = page.locator("#suggestions").get_by_text(SUGGESTED)
    example.wait_for(timeout=15_000)
    example.click()
    wait_for_js(page, "document.querySelector('#question textarea').value.length > 0")
    assert page.input_value("#question textarea") == SUGGESTED
    page.screenshot(path=str(screenshots / "suggestions-chat-ui.png"))


def test_enter_sends_and_shift_enter_makes_a_new_line(live: LiveServer, page: Any) -> None:
    page.goto(live.url + "/chat/")
    box = page.locator("#question textarea")
    box.click()
    box.type("示范区新建")
    box.press("Shift+Enter")
    box.type("多少个5G基站？")
    assert box.input_value() == "示范区新建\n多少个5G基站？"
    assert page.locator("#chat .message-row").count() == 0  # not sent yet
    box.press("Enter")
    page.wait_for_selector("#sources mark", timeout=30_000)
    assert "多少个5G基站" in page.locator("#chat .message-row").first.inner_text()
    assert box.input_value() == ""


def test_the_passages_being_read_show_before_the_answer(settings: Settings, page: Any) -> None:
    from tests.fakes.chat_model import FakeChatModel
    from tests.fakes.embedder import HashingEmbedder
    from tests.interfaces.server.conftest import FAKE_ANSWER

    service = RagService(settings, HashingEmbedder(), FakeChatModel(FAKE_ANSWER, prompt_s=3))
    service.ingest(progress=False)
    with LiveServer(create_app(service)) as server:
        page.goto(server.url + "/chat/")
        page.fill("#question textarea", "示范区新建多少个5G基站？")
        page.click("#send")
        wait_for_js(page, "!!document.querySelector('#sources .reading')", timeout=2500)
        assert "plan.txt" in page.locator("#sources").inner_text()
        assert page.locator("#sources mark").count() == 0  # not answered yet
        page.wait_for_selector("#sources mark", timeout=30_000)
        assert page.locator("#sources .reading").count() == 0  # the cited ones now
