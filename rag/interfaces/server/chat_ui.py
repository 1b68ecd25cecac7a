"""The Gradio chat window: streaming answers, [n] links to their sources, a sources
panel, a knowledge-base picker, example questions, Chinese or English labels.

Everything from a document or the model is HTML-escaped here before Gradio renders
it, so a document's <script> shows as text and never runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlencode

import gradio as gr

from rag.errors import BadQuestionError, KnowledgeBaseError
from rag.interfaces.server.answers import (
    AnswerJob,
    AskRequest,
    event_json,
    history_from_messages,
    validate,
)
from rag.interfaces.server.chat_text import LANGUAGES, TEXT, as_markdown_text, escape
from rag.interfaces.server.gate import AnswerGate
from rag.interfaces.server.kb_panel import build_kb_panel
from rag.service import RagService
from rag.types import Done, Failed, Queued, Reading, Replace, Started, Token

CSS = """
#sources mark { background: #ffe58f; padding: 0 2px; }
#sources .src { border-left: 3px solid #b22222; padding: 4px 8px; margin: 8px 0; }
#sources .src-head { font-weight: 600; }
#sources .src-section { color: #666; font-size: 0.9em; }
#sources blockquote { margin: 6px 0; white-space: pre-wrap; }
"""
_MARKER = re.compile(r"\[(\d+)\]")
CONTEXT_CHARS = 120  # shown around a cited span in the panel


def source_url(kb: str, citation: dict[str, Any]) -> str:
    query = {
        "kb": kb,
        "chunk": citation["chunk_id"],
        "start": citation["start"],
        "end": citation["end"],
    }
    return "/source?" + urlencode(query)


def render_answer(text: str, citations: list[dict[str, Any]], kb: str) -> str:
    """Answer text as inert Markdown whose [n] markers, and nothing else, link to their
    sources."""
    first: dict[int, dict[str, Any]] = {}
    for c in citations:
        first.setdefault(c["n"], c)
    out, pos = [], 0
    for match in _MARKER.finditer(text):
        citation = first.get(int(match.group(1)))
        out.append(as_markdown_text(text[pos : match.start()]))
        if citation is None:
            out.append(as_markdown_text(match.group(0)))
        else:
            out.append(f"[[{citation['n']}]]({source_url(kb, citation)})")
        pos = match.end()
    out.append(as_markdown_text(text[pos:]))
    return "".join(out)


def source_name(c: dict[str, Any], lang: str) -> str:
    """The document's title with its file beside it, then the page:
    "Title (file.pdf) · p. 4"."""
    file, title = str(c.get("source", "")), str(c.get("title") or "")
    name = f"{title} ({file})" if title and title != file else file
    page = c.get("page")
    return f"{name} · {TEXT[lang]['page'].format(page)}" if page else name


def render_sources(service: RagService, kb: str, citations: list[dict[str, Any]], lang: str) -> str:
    t = TEXT[lang]
    if not citations:
        return f"<h4>{t['sources']}</h4><p>{t['no_sources']}</p>"
    items = []
    unique = {(c["n"], c["start"], c["end"]): c for c in citations}
    for c in unique.values():
        passage = service.source_passage(c["chunk_id"], c["start"], c["end"], CONTEXT_CHARS, kb)
        before, span, after = (
            (passage.before, passage.text, passage.after) if passage else ("", c["text"], "")
        )
        items.append(
            f'<div class="src" id="src-{c["n"]}">'
            f'<div class="src-head">[{c["n"]}] {escape(source_name(c, lang))}</div>'
            f'<div class="src-section">{escape(c["section"])}</div>'
            f"<blockquote>…{escape(before)}<mark>{escape(span)}</mark>"
            f"{escape(after)}…</blockquote>"
            f'<a href="{html.escape(source_url(kb, c))}" target="_blank" rel="noopener">'
            f"{t['read']}</a></div>"
        )
    return f"<h4>{t['sources']}</h4>" + "".join(items)


READING_CHARS = 160  # of each passage shown while the answer is written


def render_reading(event: Reading, lang: str) -> str:
    """The passages the model reads, before it answers: title, section, their start."""
    items = []
    for p in event.to_json():
        text = str(p["text"])
        excerpt = text[:READING_CHARS] + ("…" if len(text) > READING_CHARS else "")
        items.append(
            f'<div class="src reading">'
            f'<div class="src-head">[{p["n"]}] {escape(source_name(p, lang))}</div>'
            f'<div class="src-section">{escape(str(p["section"]))}</div>'
            f"<blockquote>{escape(excerpt)}</blockquote></div>"
        )
    return f"<h4>{TEXT[lang]['reading']}</h4>" + "".join(items)


def build_chat_ui(service: RagService, gate: AnswerGate) -> gr.Blocks:
    settings = service.settings
    default_lang = "en" if settings.ui_language == "en" else "zh"
    t = TEXT[default_lang]
    kbs = service.knowledge_bases() or [settings.kb]

    def respond(
        question: str,
        chat: list[dict[str, Any]],
        history: list[dict[str, str]],
        kb: str,
        lang_label: str,
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        lang = LANGUAGES.get(lang_label, "zh")
        chat = [*(chat or []), {"role": "user", "content": as_markdown_text(question or "")}]
        reply: dict[str, str] = {"role": "assistant", "content": ""}
        chat.append(reply)
        try:
            request = validate(
                service, AskRequest(question or "", history_from_messages(history), kb, lang)
            )
        except BadQuestionError as exc:
            reply["content"] = "⚠️ " + exc.message(lang)
            yield chat, history, "", gr.update()
            return
        except KnowledgeBaseError as exc:
            reply["content"] = "⚠️ " + as_markdown_text(str(exc))
            yield chat, history, "", gr.update()
            return
        yield chat, history, "", gr.update()
        text = ""
        # Gradio closes this generator when the browser goes away: the job ends with it
        with AnswerJob(service, gate, request) as job:
            for event in job:
                sources: Any = gr.update()
                match event:
                    case Queued(position):
                        reply["content"] = TEXT[lang]["queued"].format(ahead=position)
                    case Started():
                        reply["content"] = TEXT[lang]["thinking"]
                    case Reading():
                        sources = render_reading(event, lang)
                    case Token(piece):
                        text += piece
                        reply["content"] = as_markdown_text(text)
                    case Replace(text):
                        reply["content"] = as_markdown_text(text)
                    case Failed(error):
                        reply["content"] = "⚠️ " + as_markdown_text(error.message(lang))
                    case Done(answer):
                        citations = [c.to_json() for c in answer.citations]
                        reply["content"] = render_answer(answer.text, citations, kb)
                        sources = render_sources(service, kb, citations, lang)
                        history = [
                            *history,
                            {"role": "user", "content": request.question},
                            {"role": "assistant", "content": answer.text},
                        ][-6:]
                yield chat, history, gr.update(), sources

    def switch_language(lang_label: str) -> tuple[Any, ...]:
        lang = LANGUAGES.get(lang_label, "zh")
        t = TEXT[lang]
        return (
            gr.update(value=t["title"]),
            gr.update(label=t["language"]),
            gr.update(label=t["kb"]),
            gr.update(label=t["chat"], placeholder=t["empty_chat"]),
            gr.update(placeholder=t["placeholder"]),
            gr.update(value=t["send"]),
            gr.update(value=t["new"]),
            gr.update(value=f"<h4>{t['sources']}</h4><p>{t['no_sources']}</p>"),
            *panel.relabel(lang),
        )

    def ask_api(question: str, kb: str = "") -> dict[str, Any]:
        """For gradio_client: one question in, the `rag ask --json` record out."""
        try:
            request = validate(service, AskRequest(question, (), kb or None))
        except BadQuestionError as exc:
            return {"error": exc.message("zh")}
        except KnowledgeBaseError as exc:
            return {"error": str(exc)}
        result: dict[str, Any] = {"error": "no answer"}
        with AnswerJob(service, gate, request) as job:
            for event in job:
                if isinstance(event, Done | Failed):
                    result = event_json(event)
        return result

    def suggestions(kb_name: str) -> Any:
        return gr.update(samples=[[q] for q in service.suggested_questions(kb_name)])

    with gr.Blocks(title=settings.widget_title) as ui:
        with gr.Row():
            title = gr.Markdown(t["title"])
            language = gr.Radio(
                list(LANGUAGES),
                value="English" if default_lang == "en" else "中文",
                label=t["language"],
                elem_id="language",
            )
            kb = gr.Dropdown(kbs, value=settings.kb, label=t["kb"], elem_id="kb-picker")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label=t["chat"],
                    elem_id="chat",
                    height=480,
                    placeholder=t["empty_chat"],
                    buttons=["copy"],
                )
                # one line that grows: Gradio sends on Enter and leaves Shift+Enter to the
                # text box (a new line), as the widget does; from two lines on it is reversed
                question = gr.Textbox(
                    show_label=False,
                    placeholder=t["placeholder"],
                    lines=1,
                    max_lines=8,
                    elem_id="question",
                )
                with gr.Row():
                    send = gr.Button(t["send"], variant="primary", elem_id="send")
                    new = gr.Button(t["new"], elem_id="new-chat")
                # the knowledge base's own questions (rag/answer/suggestions.py), read at
                # each page load and knowledge-base switch: they are made in the background
                examples = gr.Dataset(
                    components=[question],
                    samples=[[q] for q in service.suggested_questions(settings.kb)],
                    label=t["examples"],
                    elem_id="suggestions",
                )
            with gr.Column(scale=2):
                sources = gr.HTML(
                    f"<h4>{t['sources']}</h4><p>{t['no_sources']}</p>", elem_id="sources"
                )
        panel = build_kb_panel(service, kb, language, default_lang)
        history = gr.State([])

        outputs = [chatbot, history, question, sources]
        for trigger in (send.click, question.submit):
            trigger(
                respond,
                [question, chatbot, history, kb, language],
                outputs,
                api_visibility="private",
                concurrency_limit=None,  # the shared AnswerGate queues, and shows it
                show_progress="hidden",
            )
        new.click(
            lambda lang: ([], [], "", TEXT[LANGUAGES.get(lang, "zh")]["no_sources"]),
            [language],
            outputs,
            queue=False,
            api_visibility="private",
        )
        language.change(
            switch_language,
            [language],
            [title, language, kb, chatbot, question, send, new, sources, *panel.components()],
            queue=False,
            api_visibility="private",
        )
        examples.click(
            lambda sample: sample[0], [examples], [question], queue=False, api_visibility="private"
        )
        for change in (ui.load, kb.change):
            change(suggestions, [kb], [examples], queue=False, api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_limit=None)  # type: ignore[attr-defined]
    return cast(gr.Blocks, ui)
