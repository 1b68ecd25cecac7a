"""Reading an answer against passages in another language.

A Chinese sentence about an English passage shares only its names, code and numbers
with it, so the citation check (citations.support) can judge it on little more than
those, and right answers were refused for want of a supported sentence
(eval/rustdoc_zh_qa.jsonl). Once the answer is complete, the sentences no passage
supports are translated into the passages' language in one call to the model, which
cannot be asked while it is still writing the answer, and checked again, word by word,
as a sentence in the passages' own language would be."""

from __future__ import annotations

import re
import threading
from string import Template

from rag.models.llm.base import ChatModel, Generation
from rag.retrieve.translate import LANGUAGES
from rag.text.scripts import language_of
from rag.types import ChatMessage, Passage

_NUMBERED = re.compile(r"^\s*(\d+)\s*[.、:：)）]\s*(.+?)\s*$")


def needs_reading(
    unsupported: dict[int, str], passages: list[Passage]
) -> tuple[str, dict[int, str]]:
    """The language to read in and the unsupported sentences written in another
    language than some passage's, or ("", {}) when every passage is in theirs."""
    read = {language for p in passages if (language := language_of([p.supporting]))}
    for language in sorted(read):
        foreign = {i: s for i, s in unsupported.items() if language_of([s]) not in (None, language)}
        if foreign:
            return language, foreign
    return "", {}


def translate_sentences(
    sentences: dict[int, str],
    language: str,
    llm: ChatModel,
    template: Template,
    cancel: threading.Event | None = None,
) -> dict[int, str]:
    """Each sentence in `language` ("en" or "zh"), by its key; a sentence the model's
    reply leaves out is left out."""
    keys = list(sentences)
    listed = "\n".join(f"{k}. {sentences[key].strip()}" for k, key in enumerate(keys, start=1))
    prompt = template.safe_substitute(language=LANGUAGES[language], sentences=listed)
    budget = min(600, 40 + 2 * sum(len(s) for s in sentences.values()))
    reply = "".join(llm.stream([ChatMessage("user", prompt)], Generation(budget, cancel=cancel)))
    out: dict[int, str] = {}
    lines = [line.strip() for line in reply.splitlines() if line.strip()]
    for line in lines:
        m = _NUMBERED.match(line)
        if m and 1 <= int(m.group(1)) <= len(keys):
            out.setdefault(keys[int(m.group(1)) - 1], m.group(2))
    if not out and len(keys) == 1 and len(lines) == 1:
        out[keys[0]] = lines[0]  # one sentence comes back unnumbered as often as not
    return out
