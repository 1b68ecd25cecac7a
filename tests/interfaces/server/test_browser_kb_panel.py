"""The chat page's knowledge-base panel in real Chromium, with the model-free embedder
and a scripted model (plumbing): create a knowledge base, drop files and watch each
one's progress and result, list and delete documents, delete the knowledge base. The
same panel with the real models: test_browser_end_to_end.py."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.interfaces.server.app import create_app
from rag.settings import Settings
from tests.interfaces.server.browser import wait_for_js
from tests.interfaces.server.conftest import LiveServer, fake_service
from tests.interfaces.server.test_kb_api import docx_bytes


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    service = fake_service(settings)
    with LiveServer(create_app(service)) as live:
        live.service = service
        yield live


def open_panel(page: Any, url: str) -> None:
    page.goto(url + "/chat/")
    page.click("#kb-manage button, #kb-manage .label-wrap")
    page.wait_for_selector("#kb-uploader .kb-drop")


def create_kb(page: Any, name: str) -> None:
    page.fill("#new-kb-name textarea, #new-kb-name input", name)
    page.click("#create-kb")
    wait_for_js(page, f"document.querySelector('#kb-status').innerText.includes('{name}')")
    wait_for_js(page, f"document.querySelector('#kb-picker input').value === '{name}'")


def drop_files(page: Any, files: dict[str, bytes]) -> None:
    """Drop files on the panel as a user drags them from the desktop."""
    encoded = {name: base64.b64encode(data).decode() for name, data in files.items()}
    page.evaluate(
        """(files) => {
          const transfer = new DataTransfer();
          for (const [name, data] of Object.entries(files)) {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name));
          }
          const zone = document.querySelector('#kb-uploader .kb-drop');
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));
        }""",
        encoded,
    )


def result_rows(page: Any) -> dict[str, str]:
    rows = page.locator("#kb-uploader .kb-results li").all_inner_texts()
    return {row.split(" — ")[0]: row for row in rows}


def documents_shown(page: Any) -> str:
    return str(page.locator("#kb-documents [role=grid]").inner_text())


def test_create_drop_files_see_progress_delete_document_and_kb(
    server: LiveServer, context: Any, screenshots: Path, tmp_path: Path
) -> None:
    service = server.service
    assert service is not None
    page = context.new_page()
    open_panel(page, server.url)
    create_kb(page, "office")
    assert "office" in service.knowledge_bases()

    memo = docx_bytes("The boiler room key hangs in cabinet K7.", title="Facilities memo")
    drop_files(page, {"memo.docx": memo, "broken.docx": b"PK\x03\x04 not a zip"})
    wait_for_js(
        page,
        "[...document.querySelectorAll('#kb-uploader .kb-results li')]"
        ".every((li) => /kb-(added|failed)/.test(li.className))",
    )
    rows = result_rows(page)
    assert "已索引" in rows["memo.docx"] and "个段落" in rows["memo.docx"]
    assert "失败" in rows["broken.docx"] and "damaged" in rows["broken.docx"]
    wait_for_js(page, "document.querySelector('#kb-documents').innerText.includes('memo.docx')")
    page.screenshot(path=str(screenshots / "kb-panel-1-uploaded.png"), full_page=True)
    shown = documents_shown(page)
    assert "memo.docx" in shown and "Facilities memo" in shown and "broken.docx" not in shown
    assert [d.name for d in service.documents("office")] == ["memo.docx"]

    # the file input (click to choose) takes the same path
    notes = tmp_path / "notes.txt"
    notes.write_text("访客在3号门登记后领取临时门禁卡。", encoding="utf-8")
    page.set_input_files("#kb-uploader .kb-file", str(notes))
    wait_for_js(page, "document.querySelector('#kb-documents').innerText.includes('notes.txt')")

    [doc] = [d for d in service.documents("office") if d.name == "memo.docx"]
    page.fill("#doc-id input", str(doc.id))
    page.click("#delete-doc")
    wait_for_js(page, "!document.querySelector('#kb-documents').innerText.includes('memo.docx')")
    assert [d.name for d in service.documents("office")] == ["notes.txt"]

    page.once("dialog", lambda dialog: dialog.dismiss())  # asked, and kept
    page.click("#delete-kb")
    page.wait_for_timeout(500)
    assert "office" in service.knowledge_bases()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-kb")
    wait_for_js(page, "document.querySelector('#kb-status').innerText.includes('office')")
    assert "office" not in service.knowledge_bases()
    assert page.locator("#kb-picker input").input_value() == "jinan"
    page.screenshot(path=str(screenshots / "kb-panel-2-deleted.png"), full_page=True)
    assert page.get_by_text("Error", exact=True).count() == 0  # no Gradio error toast


def test_the_panel_says_why_when_a_change_is_not_allowed(settings: Settings, context: Any) -> None:
    service = fake_service(settings.model_copy(update={"admin_token": "s3cret"}))
    with LiveServer(create_app(service)) as server:
        page = context.new_page()
        open_panel(page, server.url)
        page.fill("#new-kb-name textarea, #new-kb-name input", "nope")
        page.click("#create-kb")
        wait_for_js(page, "document.querySelector('#kb-status').innerText.includes('admin')")
        assert "nope" not in service.knowledge_bases()
        drop_files(page, {"a.txt": "文字".encode()})
        wait_for_js(page, "!!document.querySelector('#kb-uploader .kb-error')")
        assert "admin" in page.locator("#kb-uploader .kb-error").inner_text()

        page.fill("#admin-token input", "s3cret")
        create_kb(page, "yes")
        drop_files(page, {"a.txt": "访客在3号门登记。".encode()})
        wait_for_js(page, "!!document.querySelector('#kb-uploader .kb-added')")
        assert [d.name for d in service.documents("yes")] == ["a.txt"]


def test_the_widget_shows_no_management(server: LiveServer, context: Any) -> None:
    page = context.new_page()
    page.goto(server.url + "/widget/panel?lang=zh")
    page.wait_for_selector("#question")
    assert page.locator(".kb-drop, #kb-manage, input[type=file]").count() == 0
