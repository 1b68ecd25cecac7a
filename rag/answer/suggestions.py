"""Questions a knowledge base suggests to its users: written by the language model from
its own passages, and kept only when the assistant then answers them citing the passage
each was written from. No example is written by hand for one corpus.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from string import Template

from tqdm import tqdm

from rag.models.llm.base import ChatModel, Generation
from rag.store.catalog import ChunkRow
from rag.text.instructions import mask_instructions
from rag.text.normal import figures
from rag.text.scripts import language_of
from rag.text.tokens import tokenize
from rag.types import Answer, ChatMessage

META_KEY = "suggested_questions"
LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}


@dataclass(frozen=True)
class Suggestion:
    question: str
    chunk_id: int  # the passage it was written from, and that its answer cites


def pick_passages(rows: list[ChunkRow], count: int) -> list[ChunkRow]:
    """Passages rich in facts, spread over the documents: each document's chunks ranked
    by how many distinct words and figures they hold, taken round-robin."""
    by_document: dict[str, list[ChunkRow]] = {}
    for row in rows:
        by_document.setdefault(row.source, []).append(row)
    ranked = [
        sorted(chunks, key=lambda r: -(len(set(tokenize(r.text))) + 3 * len(figures(r.text))))
        for chunks in by_document.values()
    ]
    picked: list[ChunkRow] = []
    for depth in range(max((len(r) for r in ranked), default=0)):
        picked += [chunks[depth] for chunks in ranked if depth < len(chunks)]
        if len(picked) >= count:
            break
    return picked[:count]


def write_question(llm: ChatModel, template: Template, passage: str) -> str:
    language = LANGUAGE_NAMES.get(language_of([passage]) or "zh", "Chinese (简体中文)")
    prompt = template.substitute(language=language, passage=passage)
    reply = "".join(llm.stream([ChatMessage("user", prompt)], Generation(60))).strip()
    question = reply.splitlines()[0].strip().strip("\"'“”") if reply else ""
    # a statement about the passage is no question to offer (the small model writes some)
    is_question = question.endswith(("?", "？"))
    return question if is_question and 4 <= len(question) <= 120 else ""


def make_suggestions(
    rows: list[ChunkRow],
    llm: ChatModel,
    template: Template,
    ask: Callable[[str], Answer],
    count: int = 3,
    tries: int = 8,
    progress: bool = True,
) -> list[Suggestion]:
    """Up to `count` questions the assistant answers from their own passage, trying at
    most `tries` passages (a question and an answer each: about half a minute here)."""
    kept: list[Suggestion] = []
    bar = tqdm(
        pick_passages(rows, tries),
        desc="Writing suggested questions",
        unit="passage",
        disable=not progress,
        file=sys.stderr,
    )
    for row in bar:
        question = write_question(llm, template, mask_instructions(row.context))
        if not question or any(s.question == question for s in kept):
            continue
        answer = ask(question)
        if not answer.refused and any(c.chunk_id == row.id for c in answer.citations):
            kept.append(Suggestion(question, row.id))
            bar.set_postfix_str(f"{len(kept)} kept")
        if len(kept) >= count:
            break
    bar.close()
    return kept


def to_json(suggestions: list[Suggestion], generation: int) -> str:
    return json.dumps(
        {"generation": generation, "questions": [s.__dict__ for s in suggestions]},
        ensure_ascii=False,
    )


def from_json(text: str | None) -> tuple[int, list[Suggestion]]:
    """(the knowledge base's generation they were made for, the suggestions)."""
    if not text:
        return -1, []
    data = json.loads(text)
    return int(data["generation"]), [Suggestion(**q) for q in data["questions"]]
