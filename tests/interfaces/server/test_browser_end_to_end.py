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


def test_a_user_builds_a_knowledge_base_in_the_browser_and_asks_it(
    real_live: LiveServer, context: Any, screenshots: Path, tmp_path: Path
) -> None:
    """Issue 12 with the bundled models: create a knowledge base, upload a DOCX, a PDF
    and a broken file made here, ask what only the DOCX says and get a cited answer that
    names the document's title, delete the DOCX and be told the documents do not say,
    delete the knowledge base."""
    from tests.ingest.loaders.pdf_maker import write_text_pdf
    from tests.interfaces.server.test_browser_kb_panel import (
        create_kb,
        documents_shown,
        drop_files,
        open_panel,
        result_rows,
    )
    from tests.interfaces.server.test_kb_api import docx_bytes

    service = real_live.service
    assert service is not None
    memo = docx_bytes(
        "后勤处通知：锅炉房的备用钥匙存放在行政楼二层的K7号柜里，由值班电工保管。",
        "访客车辆请停在东门外的临时停车场。",
        title="后勤管理通知",
    )
    write_text_pdf(tmp_path / "printer.pdf", ["Printer PX-200 supports up to 12 paper trays."])
    page = context.new_page()
    open_panel(page, real_live.url)
    create_kb(page, "e2e-office")
    started = time.monotonic()
    drop_files(
        page,
        {
            "memo.docx": memo,
            "printer.pdf": (tmp_path / "printer.pdf").read_bytes(),
            "broken.pdf": b"%PDF-1.4 not really",
        },
    )
    wait_for_js(
        page,
        "[...document.querySelectorAll('#kb-uploader .kb-results li')]"
        ".every((li) => /kb-(added|failed)/.test(li.className))",
        timeout=120_000,
    )
    indexed_s = time.monotonic() - started
    rows = result_rows(page)
    assert "已索引" in rows["memo.docx"] and "已索引" in rows["printer.pdf"], rows
    assert "失败" in rows["broken.pdf"], rows
    wait_for_js(page, "document.querySelector('#kb-documents').innerText.includes('memo.docx')")
    assert "后勤管理通知" in documents_shown(page)
    page.screenshot(path=str(screenshots / "kb-e2e-1-uploaded.png"), full_page=True)
    print(f"uploaded and indexed in {indexed_s:.1f} s")

    def ask(question: str) -> str:
        before = page.locator("#chat .message-row").count()
        page.fill("#question textarea", question)
        page.click("#send")
        # done: the reply is neither waiting nor searching, and the sources panel shows
        # the cited passages (or none) instead of those being read
        done = (
            "(() => { const rows = document.querySelectorAll('#chat .message-row');"
            " if (rows.length < MIN) return false;"
            " const last = rows[rows.length - 1].innerText;"
            " return !!last.trim() && !/[🔎⏳]/u.test(last)"
            " && !document.querySelector('#sources .reading'); })()"
        )
        wait_for_js(page, done.replace("MIN", str(before + 2)), timeout=240_000)
        return str(page.locator("#chat .message-row").last.inner_text())

    answer = ask("锅炉房的备用钥匙放在哪里？")
    assert "K7" in answer, answer
    page.wait_for_selector("#sources mark", timeout=10_000)
    assert "后勤管理通知 (memo.docx)" in page.locator("#sources").inner_text()
    page.screenshot(path=str(screenshots / "kb-e2e-2-answer.png"), full_page=True)

    [doc] = [d for d in service.documents("e2e-office") if d.name == "memo.docx"]
    page.fill("#doc-id input", str(doc.id))
    page.click("#delete-doc")
    wait_for_js(page, "!document.querySelector('#kb-documents').innerText.includes('memo.docx')")
    again = ask("锅炉房的备用钥匙放在哪里？")
    assert "K7" not in again and "没有找到" in again, again
    page.screenshot(path=str(screenshots / "kb-e2e-3-not-in-documents.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-kb")
    wait_for_js(page, "document.querySelector('#kb-status').innerText.includes('e2e-office')")
    assert "e2e-office" not in service.knowledge_bases()
