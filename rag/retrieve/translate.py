"""A question asked in one language over documents in another: the question, put into
the documents' language by the language model, is searched beside the original.

Neither ranker bridges languages well: BM25 matches no word of a Chinese question in an
English page, and the small multilingual embedding puts the right passage in the top 5
for about half of such questions (eval/rustdoc_zh_qa.jsonl)."""

from __future__ import annotations

from collections.abc import Callable
from string import Template

from rag.models.llm.base import ChatModel, Generation
from rag.text.scripts import language_of
from rag.types import ChatMessage

# A knowledge base with at least this share of its letters in the other script holds
# documents a question may need in the other language
MIN_OTHER_SCRIPT = 0.2
LANGUAGES = {"zh": "Chinese (简体中文)", "en": "English"}

Translator = Callable[[str, str], str]  # (question, language code) -> the question in it


def other_language(question: str, kb_han_share: float | None) -> str | None:
    """The language to search in besides the question's own ("en" or "zh"), when the
    knowledge base holds enough text in the other script; else None."""
    asked = language_of([question])
    if asked is None or kb_han_share is None:
        return None
    if asked == "zh" and 1 - kb_han_share >= MIN_OTHER_SCRIPT:
        return "en"
    if asked == "en" and kb_han_share >= MIN_OTHER_SCRIPT:
        return "zh"
    return None


def translate_question(question: str, language: str, llm: ChatModel, template: Template) -> str:
    """The question in `language`, or "" when the model gave nothing usable."""
    prompt = template.safe_substitute(language=LANGUAGES[language], question=question)
    reply = "".join(llm.stream([ChatMessage("user", prompt)], Generation(80))).strip()
    line = reply.splitlines()[0].strip().strip('“”"') if reply else ""
    return line if 0 < len(line) <= 4 * len(question) + 80 else ""
