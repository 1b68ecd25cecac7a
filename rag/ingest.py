"""Ingest: files -> load -> chunk -> embed -> catalog, then one FAISS snapshot.

Incremental: a file whose bytes and chunking settings are unchanged is skipped without
embedding anything. Each file is committed on its own, so an interrupted ingest keeps
the files it finished, and one bad file never stops the others.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.chunking import chunk_document
from rag.embeddings.base import Embedder
from rag.files import sha256_of
from rag.keyword_index import tokenize
from rag.knowledge_base import KnowledgeBase
from rag.loaders import LoaderError, is_supported, load_document
from rag.schema import Chunk

CHUNKER_VERSION = "3"  # bump when chunking changes, so the next ingest re-chunks


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not a supported type
    chunks_embedded: int = 0

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.failed)} failed",
            f"{self.chunks_embedded} chunks embedded",
        ]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts)


@dataclass(frozen=True)
class ChunkingSettings:
    size: int = 300
    overlap: int = 80

    def fingerprint(self) -> str:
        return f"chunker-v{CHUNKER_VERSION}:size={self.size}:overlap={self.overlap}"


def discover(paths: Iterable[Path], report: IngestReport) -> list[Path]:
    """Expand folders into the supported files below them, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                if is_supported(child):
                    files.append(child.resolve())
                else:
                    report.skipped.append((str(child), f"unsupported file type {child.suffix}"))
        else:
            # A named file is tried even if unsupported, so the user gets the reason.
            files.append(path.resolve() if path.exists() else path)
    return files


def ingest(
    paths: Sequence[Path],
    kb: KnowledgeBase,
    embedder: Embedder,
    chunking: ChunkingSettings,
    *,
    batch_size: int = 32,
    progress: bool = True,
) -> IngestReport:
    report = IngestReport()
    pipeline = chunking.fingerprint()
    with kb.write_lock():
        kb.check_embedder(embedder, claim=True)
        files = discover(paths, report)
        bar = tqdm(
            files,
            desc=f"Ingesting into {kb.name}",
            unit="file",
            disable=not progress,
            file=sys.stderr,
        )
        for path in bar:
            bar.set_postfix_str(path.name[-40:])
            try:
                _ingest_file(path, kb, embedder, chunking, pipeline, report, batch_size, progress)
            except LoaderError as exc:
                report.failed.append((str(path), exc.reason))
                tqdm.write(f"  skipped {path}: {exc.reason}", file=sys.stderr)
        kb.save_snapshot()
    return report


def _ingest_file(
    path: Path,
    kb: KnowledgeBase,
    embedder: Embedder,
    chunking: ChunkingSettings,
    pipeline: str,
    report: IngestReport,
    batch_size: int,
    progress: bool,
) -> None:
    try:
        content_hash = sha256_of(path) if path.is_file() else None
    except OSError as exc:
        raise LoaderError(path, f"cannot read the file ({exc.strerror})") from exc
    known = kb.catalog.find_document(str(path))
    if known and known.content_hash == content_hash and known.pipeline == pipeline:
        report.unchanged.append(str(path))
        return
    doc = load_document(path)  # raises LoaderError with the reason
    chunks = chunk_document(doc.text, chunking.size, chunking.overlap)
    if not chunks:
        raise LoaderError(path, "no text to index after extraction")
    vectors = _embed(chunks, embedder, batch_size, progress and len(chunks) > batch_size)
    tokens = [" ".join(tokenize(c.context)) for c in chunks]
    kb.catalog.replace_document(doc, content_hash or "", pipeline, chunks, vectors, tokens)
    (report.updated if known else report.added).append(str(path))
    report.chunks_embedded += len(chunks)


def _embed(chunks: list[Chunk], embedder: Embedder, batch_size: int, progress: bool) -> np.ndarray:
    parts = []
    with tqdm(
        total=len(chunks),
        desc="  embedding",
        unit="chunk",
        leave=False,
        disable=not progress,
        file=sys.stderr,
    ) as bar:
        for i in range(0, len(chunks), batch_size):
            batch = [c.context for c in chunks[i : i + batch_size]]
            parts.append(embedder.embed_passages(batch))
            bar.update(len(batch))
    return np.vstack(parts)


def remove(path: Path, kb: KnowledgeBase) -> bool:
    """Delete a document's rows and vectors. True if it was in the knowledge base."""
    with kb.write_lock():
        removed = kb.catalog.remove_document(str(path.resolve()))
        if not removed:
            removed = kb.catalog.remove_document(str(path))
        if removed:
            kb.save_snapshot()
    return removed
