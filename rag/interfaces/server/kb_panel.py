"""The chat page's knowledge-base panel: create one, drop files into it and watch each
being indexed, list, delete and re-index documents, delete the knowledge base.

Uploads go from the browser straight to the REST API (`POST /api/kb/{kb}/documents`,
NDJSON progress), so the panel and the API share one path and one set of checks, and
Gradio's own upload route stays closed. The other actions call the service; each asks
`why_not_change` first, as the API does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.errors import RagError
from rag.interfaces.server.chat_text import LANGUAGES, TEXT, as_markdown_text
from rag.interfaces.server.kb_api import why_not_change
from rag.service import RagService

UPLOADER_TEMPLATE = (
    '<div class="kb-drop" data-kb="${value}" tabindex="0" role="button">'
    '<span class="kb-drop-text"></span></div>'
    '<input class="kb-file" type="file" multiple hidden>'
    '<ul class="kb-results"></ul>'
)
UPLOADER_CSS = """
.kb-drop { border: 2px dashed #bbb; border-radius: 8px; padding: 18px; text-align: center;
  cursor: pointer; color: #555; }
.kb-drop.over { border-color: #b22222; background: #fff5f5; }
.kb-results { list-style: none; padding: 0; margin: 8px 0; font-size: 0.92em; }
.kb-results li { padding: 2px 0; }
.kb-results .kb-indexing { color: #8a6d00; }
.kb-results .kb-added, .kb-results .kb-updated, .kb-results .kb-unchanged { color: #1a7f37; }
.kb-results .kb-refused, .kb-results .kb-failed, .kb-results .kb-error { color: #b22222; }
"""
# Runs once when the panel renders. Listeners sit on `element`, which outlives the
# template's re-renders (the knowledge base switched). File names and reasons are set as
# text, never as HTML.
UPLOADER_JS = """
const words = {
  zh: {drop: '把文件拖到这里，或点击选择（可多选）', waiting: '等待', indexing: '正在索引…',
       added: '已索引', updated: '已更新', unchanged: '已有，未变', refused: '拒收',
       failed: '失败', chunks: ' 个段落'},
  en: {drop: 'Drop files here, or click to choose (several at once)', waiting: 'waiting',
       indexing: 'indexing…', added: 'indexed', updated: 'updated',
       unchanged: 'already there', refused: 'refused', failed: 'failed', chunks: ' chunks'},
};
const lang = () => {
  const picked = document.querySelector('#language input:checked');
  return picked && picked.value === 'English' ? 'en' : 'zh';
};
const say = () => {
  const text = element.querySelector('.kb-drop-text');
  if (text) text.textContent = words[lang()].drop;
};
say();
watch('value', say);
const picker = document.querySelector('#language');
if (picker) picker.addEventListener('change', () => setTimeout(say, 0));

function row(list, name) {
  const li = document.createElement('li');
  li.textContent = name + ' — ' + words[lang()].waiting;
  list.appendChild(li);
  return li;
}

async function send(files) {
  if (!files.length) return;
  const w = words[lang()];
  const list = element.querySelector('.kb-results');
  const kb = props.value || element.querySelector('.kb-drop').dataset.kb;
  list.replaceChildren();
  const rows = new Map();
  const form = new FormData();
  for (const f of files) { form.append('files', f, f.name); rows.set(f.name, row(list, f.name)); }
  const headers = {Accept: 'application/x-ndjson'};
  const box = document.querySelector('#admin-token input, #admin-token textarea');
  if (box && box.value) headers['X-Admin-Token'] = box.value;
  let response;
  try {
    response = await fetch('/api/kb/' + encodeURIComponent(kb) + '/documents',
                           {method: 'POST', body: form, headers, credentials: 'same-origin'});
  } catch (e) {
    const li = document.createElement('li'); li.className = 'kb-error';
    li.textContent = String(e); list.replaceChildren(li); return;
  }
  if (!(response.headers.get('content-type') || '').includes('ndjson')) {
    let message = 'HTTP ' + response.status;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    const li = document.createElement('li'); li.className = 'kb-error';
    li.textContent = message; list.replaceChildren(li); return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf('\\n')) >= 0) {
      const line = buffer.slice(0, cut); buffer = buffer.slice(cut + 1);
      if (!line.trim()) continue;
      const event = JSON.parse(line);
      if (event.done) continue;
      const li = rows.get(event.file) || row(list, event.file);
      li.className = 'kb-' + event.status;
      let text = event.file + ' — ' + (w[event.status] || event.status);
      if (event.total) text += ' ' + event.chunks + ' / ' + event.total;
      else if (event.chunks) text += '（' + event.chunks + w.chunks + '）';
      if (event.reason) text += '：' + event.reason;
      li.textContent = text;
    }
  }
  trigger('change');
}

element.addEventListener('click', (e) => {
  if (e.target.closest('.kb-drop')) element.querySelector('.kb-file').click();
});
element.addEventListener('keydown', (e) => {
  if (e.target.closest('.kb-drop') && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault(); element.querySelector('.kb-file').click();
  }
});
element.addEventListener('change', (e) => {
  if (e.target.classList.contains('kb-file')) {
    const files = Array.from(e.target.files); e.target.value = ''; send(files);
  }
});
element.addEventListener('dragover', (e) => {
  const zone = e.target.closest('.kb-drop');
  if (zone) { e.preventDefault(); zone.classList.add('over'); }
});
element.addEventListener('dragleave', (e) => {
  const zone = e.target.closest('.kb-drop');
  if (zone) zone.classList.remove('over');
});
element.addEventListener('drop', (e) => {
  const zone = e.target.closest('.kb-drop');
  if (!zone) return;
  e.preventDefault(); zone.classList.remove('over');
  send(Array.from(e.dataTransfer.files));
});
"""
# asks before a knowledge base is deleted; the answer goes to the hidden `confirmed` box
CONFIRM_DELETE_JS = """
(kb, token, lang, confirmed) => {
  const ask = lang === 'English' ? `Delete the knowledge base "${kb}" and all its documents?`
                                 : `删除知识库「${kb}」及其全部文档？`;
  return [kb, token, lang, window.confirm(ask) ? 'yes' : ''];
}
"""


@dataclass
class KbPanel:
    """The panel's components, for the chat page's language switch."""

    accordion: gr.Accordion
    new_name: gr.Textbox
    create: gr.Button
    token: gr.Textbox
    documents: gr.Dataframe
    doc_id: gr.Number
    delete_doc: gr.Button
    reindex: gr.Button
    delete_kb: gr.Button

    def relabel(self, lang: str) -> list[Any]:
        t = TEXT[lang]
        return [
            gr.update(label=t["manage"]),
            gr.update(label=t["new_kb"]),
            gr.update(value=t["create"]),
            gr.update(label=t["admin_token"]),
            gr.update(headers=document_headers(lang)),
            gr.update(label=t["doc_id"]),
            gr.update(value=t["delete_doc"]),
            gr.update(value=t["reindex"]),
            gr.update(value=t["delete_kb"]),
        ]

    def components(self) -> list[Any]:
        return [
            self.accordion,
            self.new_name,
            self.create,
            self.token,
            self.documents,
            self.doc_id,
            self.delete_doc,
            self.reindex,
            self.delete_kb,
        ]


def document_headers(lang: str) -> list[str]:
    return TEXT[lang]["doc_columns"].split("|")


def document_rows(service: RagService, kb: str) -> list[list[Any]]:
    rows = []
    for d in service.documents(kb):
        size = d.file_size()
        rows.append(
            [
                d.id,
                d.title,
                d.name,
                d.loader,
                "—" if size is None else _size(size),
                d.chunks,
                d.ingested_at.replace("T", " ")[:16],
            ]
        )
    return rows


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def build_kb_panel(service: RagService, kb: gr.Dropdown, language: gr.Radio, lang: str) -> KbPanel:
    """The panel, under the chat; call inside the page's Blocks."""
    settings = service.settings
    t = TEXT[lang]

    def allowed(request: gr.Request | None, token: str) -> str | None:
        host = request.client.host if request is not None and request.client else ""
        return why_not_change(host, token or None, settings)

    def status(text: str) -> Any:
        return gr.update(value=as_markdown_text(text))

    def lang_of(label: str) -> str:
        return LANGUAGES.get(label, "zh")

    def kb_choices(value: str) -> Any:
        return gr.update(choices=service.knowledge_bases() or [settings.kb], value=value)

    def table(kb_name: str) -> Any:
        try:
            return gr.update(value=document_rows(service, kb_name))
        except RagError:
            return gr.update(value=[])

    def show(kb_name: str) -> tuple[Any, Any]:
        return gr.update(value=kb_name), table(kb_name)

    def create(name: str, token: str, label: str, request: gr.Request) -> tuple[Any, Any, Any, Any]:
        name = (name or "").strip()
        if reason := allowed(request, token):
            return gr.update(), gr.update(), gr.update(), status(reason)
        try:
            service.create_kb(name)
        except RagError as exc:
            return gr.update(), gr.update(), gr.update(), status(str(exc))
        done = TEXT[lang_of(label)]["created"].format(name=name)
        return kb_choices(name), gr.update(value=name), gr.update(value=""), status(done)

    def delete_doc(
        kb_name: str, doc_id: float | None, token: str, label: str, request: gr.Request
    ) -> tuple[Any, Any]:
        if reason := allowed(request, token):
            return gr.update(), status(reason)
        if doc_id is None:
            return gr.update(), status(TEXT[lang_of(label)]["pick_doc"])
        try:
            doc = service.delete_document(int(doc_id), kb_name)
        except RagError as exc:
            return gr.update(), status(str(exc))
        done = TEXT[lang_of(label)]["deleted_doc"].format(name=doc.name)
        return table(kb_name), status(done)

    def reindex(
        kb_name: str, token: str, label: str, request: gr.Request
    ) -> Iterator[tuple[Any, Any]]:
        if reason := allowed(request, token):
            yield gr.update(), status(reason)
            return
        yield gr.update(), status(TEXT[lang_of(label)]["reindexing"])
        try:
            report = service.reindex(kb_name, progress=False)
        except RagError as exc:
            yield gr.update(), status(str(exc))
            return
        yield table(kb_name), status(f"{kb_name}: {report.summary()}")

    def delete_kb(
        kb_name: str, token: str, label: str, confirmed: str, request: gr.Request
    ) -> tuple[Any, Any, Any, Any]:
        if confirmed != "yes":
            return gr.update(), gr.update(), gr.update(), gr.update()
        if reason := allowed(request, token):
            return gr.update(), gr.update(), gr.update(), status(reason)
        try:
            service.delete_kb(kb_name)
        except RagError as exc:
            return gr.update(), gr.update(), gr.update(), status(str(exc))
        left = service.knowledge_bases()
        after = settings.kb if settings.kb in left else (left[0] if left else settings.kb)
        done = TEXT[lang_of(label)]["deleted_kb"].format(name=kb_name)
        return kb_choices(after), gr.update(value=after), table(after), status(done)

    with gr.Accordion(t["manage"], open=False, elem_id="kb-manage") as accordion:
        with gr.Row():
            new_name = gr.Textbox(label=t["new_kb"], elem_id="new-kb-name", scale=3)
            create_button = gr.Button(t["create"], elem_id="create-kb", scale=1)
            token = gr.Textbox(
                label=t["admin_token"],
                type="password",
                elem_id="admin-token",
                visible=bool(settings.admin_token),
                scale=2,
            )
        uploader = gr.HTML(
            settings.kb,
            html_template=UPLOADER_TEMPLATE,
            css_template=UPLOADER_CSS,
            js_on_load=UPLOADER_JS,
            elem_id="kb-uploader",
        )
        documents = gr.Dataframe(
            value=lambda: document_rows(service, settings.kb),
            headers=document_headers(lang),
            datatype="str",
            interactive=False,
            elem_id="kb-documents",
            wrap=True,
        )
        with gr.Row():
            doc_id = gr.Number(label=t["doc_id"], precision=0, elem_id="doc-id", scale=1)
            delete_doc_button = gr.Button(t["delete_doc"], elem_id="delete-doc", scale=1)
            reindex_button = gr.Button(t["reindex"], elem_id="reindex", scale=1)
            delete_kb_button = gr.Button(
                t["delete_kb"], variant="stop", elem_id="delete-kb", scale=1
            )
        message = gr.Markdown(elem_id="kb-status")
        confirmed = gr.Textbox(visible=False)

    private: dict[str, Any] = {"api_visibility": "private"}
    kb.change(show, [kb], [uploader, documents], queue=False, **private)
    uploader.change(table, [kb], [documents], queue=False, **private)
    create_button.click(
        create, [new_name, token, language], [kb, uploader, new_name, message], **private
    )
    delete_doc_button.click(
        delete_doc, [kb, doc_id, token, language], [documents, message], **private
    )
    reindex_button.click(reindex, [kb, token, language], [documents, message], **private)
    delete_kb_button.click(
        delete_kb,
        [kb, token, language, confirmed],
        [kb, uploader, documents, message],
        js=CONFIRM_DELETE_JS,
        **private,
    )
    return KbPanel(
        accordion,
        new_name,
        create_button,
        token,
        documents,
        doc_id,
        delete_doc_button,
        reindex_button,
        delete_kb_button,
    )
