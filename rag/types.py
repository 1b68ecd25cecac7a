"""The data that flows through the pipeline: load -> chunk -> embed -> index -> retrieve."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LoadedDocument:
    """A file's extracted text; every offset in the system points into `text`."""

    path: Path
    text: str
    loader: str  # "text", "pdf", "docx", "html"
    encoding: str | None = None


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
    # what the models saw: document title, section and text (not printed by search)
    context: str = field(default="", repr=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("context")
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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
