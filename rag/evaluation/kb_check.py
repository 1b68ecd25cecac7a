"""How well can this knowledge base be answered? `rag kb check NAME`.

The language model writes one question from each of a sample of passages spread over
every document (rag/answer/suggestions.py picks and writes them; they are kept with the
knowledge base until it changes). Each question is then searched as a user's would be,
and counts as found when its own passage, or a chunk overlapping it, is in the top 5.
Per document the report says how many of its questions found their passage, so a user
learns which documents need attention (scans read badly, tables, near-duplicates)
before colleagues start asking.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from string import Template

from tqdm import tqdm

from rag.answer.suggestions import pick_passages, write_question
from rag.models.llm.base import ChatModel
from rag.store.catalog import ChunkRow
from rag.text.instructions import mask_instructions
from rag.types import SearchHit

META_KEY = "check_questions"
TOP = 5


@dataclass(frozen=True)
class CheckQuestion:
    question: str
    chunk_id: int
    source: str
    start: int
    end: int


@dataclass
class DocumentCheck:
    source: str
    asked: int = 0
    found: int = 0
    missed: list[str] = field(default_factory=list)  # the questions not found


@dataclass
class CheckReport:
    questions: int
    hit_at_5: float
    documents: list[DocumentCheck]  # worst first

    def text(self) -> str:
        lines = [
            f"hit@{TOP} on {self.questions} questions written from the passages: "
            f"{self.hit_at_5:.2f}"
        ]
        for doc in self.documents:
            mark = "  " if doc.found == doc.asked else "! "
            lines.append(f"{mark}{doc.source}: {doc.found}/{doc.asked} found")
            lines += [f"      not found: {q}" for q in doc.missed[:3]]
        return "\n".join(lines)


def write_questions(
    rows: list[ChunkRow], llm: ChatModel, template: Template, count: int, progress: bool
) -> list[CheckQuestion]:
    made = []
    for row in tqdm(
        pick_passages(rows, count),
        desc="Writing check questions",
        unit="question",
        disable=not progress,
        file=sys.stderr,
    ):
        question = write_question(llm, template, mask_instructions(row.context))
        if question:
            made.append(CheckQuestion(question, row.id, row.source, row.start, row.end))
    return made


def check(questions: list[CheckQuestion], search: Callable[[str], list[SearchHit]]) -> CheckReport:
    documents: dict[str, DocumentCheck] = {}
    found_all = 0
    for q in questions:
        doc = documents.setdefault(q.source, DocumentCheck(q.source))
        doc.asked += 1
        found = any(
            h.chunk_id == q.chunk_id
            or (h.source == q.source and h.start < q.end and q.start < h.end)
            for h in search(q.question)[:TOP]
        )
        doc.found += found
        found_all += found
        if not found:
            doc.missed.append(q.question)
    ranked = sorted(documents.values(), key=lambda d: (d.found / d.asked, d.source))
    return CheckReport(len(questions), found_all / len(questions) if questions else 0.0, ranked)


def to_json(questions: list[CheckQuestion], generation: int, count: int) -> str:
    return json.dumps(
        {"generation": generation, "count": count, "questions": [q.__dict__ for q in questions]},
        ensure_ascii=False,
    )


def from_json(text: str | None, generation: int, count: int) -> list[CheckQuestion] | None:
    """The stored questions when they were written for this generation and at least
    this many were asked for, else None."""
    if not text:
        return None
    data = json.loads(text)
    if int(data["generation"]) != generation or int(data["count"]) < count:
        return None
    return [CheckQuestion(**q) for q in data["questions"]]
