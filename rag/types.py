"""The data that flows through the pipeline, in its order: a loaded document, its chunks,
search hits, the passages the model reads, citations, the answer, and the events a
front end receives while an answer is made."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.text.instructions import mask_instructions


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    name: str
    documents: int
    chunks: int
    embedding_model: str | None
    options: dict[str, bool] = field(default_factory=dict)  # e.g. {"ocr": True}
    passage_states: int = 0  # chunks whose model state is stored (issue 15)


@dataclass(frozen=True)
class Heading:
    """A heading the file itself declares (a PDF outline entry, an HTML h1-h6, a Word
    heading style): `start` is its line's offset in the document text."""

    start: int
    level: int  # 1 is the biggest section
    title: str


@dataclass(frozen=True)
class LoadedDocument:
    """A file's extracted text and the structure the file gives; every offset in the
    system points into `text`.

    Unless `structured`, the chunker guesses headings from the lines when `headings` is
    empty (plain text). `pages` holds the offset where each page starts (page 1 first),
    empty for formats without pages."""

    path: Path
    text: str
    loader: str  # "text", "pdf", "docx", "html", "xlsx", "csv", "pptx", "odt", "image"
    encoding: str | None = None
    title: str = ""
    headings: tuple[Heading, ...] = ()
    pages: tuple[int, ...] = ()
    structured: bool = False  # the file says where its headings are, even if it has none
    ocr_pages: tuple[int, ...] = ()  # pages (1-based) whose text was read by OCR

    def page_at(self, offset: int) -> int | None:
        return page_of(self.pages, offset)


def page_of(page_starts: Sequence[int], offset: int) -> int | None:
    """The 1-based page a document offset falls on; None for formats without pages."""
    return (bisect_right(page_starts, offset) or None) if page_starts else None


@dataclass(frozen=True)
class Chunk:
    """A span of a document, with the text the models see for it.

    `start`/`end` are character offsets into the document text, so a citation can show
    the exact span. `context` is what gets embedded and keyword-indexed: the section
    path, a table's caption and header rows where they apply, then the span's text.
    """

    start: int
    end: int
    section: str
    context: str


@dataclass(frozen=True)
class SearchHit:
    rank: int
    score: float
    source: str
    section: str
    start: int
    end: int
    text: str
    chunk_id: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    title: str = ""  # the document's title, shown beside its file name (`source`)
    page: int | None = None  # the page the chunk starts on, for paged formats
    # what the models saw: document title, section and text (not printed by search)
    context: str = field(default="", repr=False)
    # offsets inside the chunk where a new page begins (not printed)
    page_breaks: tuple[int, ...] = field(default=(), repr=False)

    def page_at(self, offset: int) -> int | None:
        """The page of an offset inside this chunk (a quoted span may start on the
        chunk's second page)."""
        return None if self.page is None else self.page + bisect_right(self.page_breaks, offset)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("context")
        data.pop("page_breaks")
        return data


@dataclass(frozen=True)
class SourcePassage:
    """A cited span with the document text around it, for the source viewers."""

    kb: str
    source: str
    section: str
    start: int
    end: int
    before: str
    text: str
    after: str
    document_chars: int
    title: str = ""
    page: int | None = None
    ocr: bool = False  # the span's page was read by OCR: its text may hold misreadings

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A numbered passage as the model sees it; offsets point into its document."""

    n: int
    hit: SearchHit
    start: int
    end: int
    text: str

    @property
    def seen(self) -> str:
        """The text as the model reads it: sentences that instruct the assistant are
        masked (with worked examples in the prompt the 1.5B model obeyed one)."""
        return mask_instructions(self.text)

    @property
    def supporting(self) -> str:
        """What a citation of this passage may rest on: the whole chunk as indexed (its
        title, section and a table's header rows label the passage's figures), with the
        sentences that instruct the assistant masked, as the model read them."""
        return mask_instructions(self.hit.context or self.hit.text)

    def prompt_block(self) -> str:
        # Plain "[n] text": file names and section labels in the block made the 1.5B
        # model copy passages instead of answering.
        return f"[{self.n}] {self.seen}"


@dataclass(frozen=True)
class Citation:
    n: int  # the number shown in the answer
    source: str
    section: str
    start: int  # the quoted span, in the document's text
    end: int
    text: str
    chunk_id: int
    title: str = ""
    page: int | None = None  # where the quoted span starts, for paged formats

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    citations: list[Citation]
    refused: bool
    retrieved: list[SearchHit]
    timings: dict[str, float] = field(default_factory=dict)
    refusal_reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "retrieved": [h.to_json() for h in self.retrieved],
            "timings": self.timings,
            "evidence": self.evidence,
        }


# ------------------------------------------------------------------ answer events
# queued* -> started -> reading -> (token | replace)* -> done, or failed at any point. The
# pipeline makes Reading, Token, Replace and Done; the server's queue adds Queued, Started
# and Failed. Front ends ignore events they do not show.


@dataclass(frozen=True)
class Queued:
    position: int  # 1 = next in line


@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class Reading:
    """The passages the model is given, as soon as retrieval has chosen them (tens of
    milliseconds): something to read while the answer is written."""

    passages: tuple[Passage, ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "n": p.n,
                "chunk_id": p.hit.chunk_id,
                "source": p.hit.source,
                "title": p.hit.title,
                "section": p.hit.section,
                "page": p.hit.page_at(p.start - p.hit.start),
                "start": p.start,
                "end": p.end,
                "text": p.text,
            }
            for p in self.passages
        ]


@dataclass(frozen=True)
class Token:
    text: str  # more of the answer to show


@dataclass(frozen=True)
class Replace:
    """Show `text` instead of everything so far: the checks withdrew the answer, or
    (`withdrawn` False) the same answer now carries citations it lacked."""

    text: str
    withdrawn: bool = True


@dataclass(frozen=True)
class Done:
    answer: Answer  # the final, checked answer


@dataclass(frozen=True)
class Failed:
    error: RagError


AnswerEvent = Queued | Started | Reading | Token | Replace | Done | Failed
