"""Ingest: files -> load -> chunk -> embed -> catalog, then one FAISS snapshot.

Incremental: a file whose bytes and chunking settings are unchanged is skipped without
embedding anything. Chunks are committed in batches, so an interrupted ingest keeps
what it finished, down to the batch, and the next one resumes a half-written file.
Whatever goes wrong with one file (a damaged zip, a parser's RecursionError, a name
that is not UTF-8) is reported against that file, and the others are still indexed.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.files import sha256_of
from rag.ingest.chunking import chunk_document, document_title
from rag.ingest.loaders import LoaderError, is_supported, load_document, reader_version
from rag.ingest.ocr import PageReader
from rag.models.embeddings.base import Embedder
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase
from rag.text.instructions import instruction_spans
from rag.text.tokens import tokenize
from rag.types import Chunk, LoadedDocument

CHUNKER_VERSION = "8"
# told, as a file's chunks are embedded, how many of how many are done
Embedded = Callable[
    [Path, int, int], None
]  # bump when loading or chunking changes, so the next ingest redoes it


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not for indexing
    notes: list[tuple[str, str]] = field(default_factory=list)  # indexed, with a remark
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
    size: int
    overlap: int
    labels: str = "title+section"  # what indexed text starts with (chunking.LABELS)

    @classmethod
    def from_settings(cls, s: Settings) -> ChunkingSettings:
        return cls(s.chunk_size, s.chunk_overlap, s.chunk_labels)

    def fingerprint(self) -> str:
        labels = "" if self.labels == "title+section" else f":labels={self.labels}"
        return f"chunker-v{CHUNKER_VERSION}:size={self.size}:overlap={self.overlap}{labels}"


@dataclass(frozen=True)
class IngestLimits:
    follow_symlinks: bool  # out of the folder being ingested
    max_depth: int  # folders nested deeper are reported, not searched
    max_chunks_per_file: int
    commit_chunks: int  # a kill loses at most this many chunks' embedding

    @classmethod
    def from_settings(cls, s: Settings) -> IngestLimits:
        return cls(
            s.ingest_follow_symlinks,
            s.ingest_max_depth,
            s.ingest_max_chunks_per_file,
            s.ingest_commit_chunks,
        )


def shown(path: Path | str) -> str:
    """A path fit to print and store: bytes that are not UTF-8 become \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def discover(paths: Iterable[Path], report: IngestReport, limits: IngestLimits) -> list[Path]:
    """Expand folders into the supported files below them, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_symlink() and not path.exists():
            report.failed.append(
                (shown(path), f"broken symbolic link to {shown(os.readlink(path))}")
            )
        elif path.is_dir():
            files += _walk(path, report, limits)
        else:
            # A named file is tried even if unsupported, so the user gets the reason.
            files.append(path.resolve() if path.exists() else path)
    return files


def _walk(root: Path, report: IngestReport, limits: IngestLimits) -> list[Path]:
    """Files below `root`, without recursion (a folder 1,000 levels deep is data, not a
    reason to crash), not following links out of `root` unless allowed."""
    top = root.resolve()
    files: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            report.failed.append((shown(folder), f"cannot read this folder ({exc.strerror})"))
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if not _utf8(entry.name):
                report.failed.append((shown(path), "the file name is not valid UTF-8; rename it"))
                continue
            if entry.is_symlink():
                target = path.resolve()
                if not target.exists():
                    report.failed.append((shown(path), f"broken symbolic link to {shown(target)}"))
                    continue
                if not limits.follow_symlinks and not target.is_relative_to(top):
                    report.skipped.append(
                        (
                            shown(path),
                            f"a link to {shown(target)}, outside {shown(root)}"
                            " (set RAG_INGEST_FOLLOW_SYMLINKS=true to index it)",
                        )
                    )
                    continue
                if target.is_dir():
                    report.skipped.append((shown(path), "a link to a folder; not followed"))
                    continue
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 >= limits.max_depth:
                    report.failed.append(
                        (
                            shown(path),
                            f"folders nested deeper than {limits.max_depth} levels"
                            " are not searched",
                        )
                    )
                else:
                    stack.append((path, depth + 1))
            elif is_supported(path):
                files.append(path.resolve())
            else:
                report.skipped.append((shown(path), f"unsupported file type {path.suffix}"))
    return sorted(files)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name come back as surrogates
        return False
    return True


def ingest(
    paths: Sequence[Path],
    kb: KnowledgeBase,
    embedder: Embedder,
    chunking: ChunkingSettings,
    limits: IngestLimits,
    *,
    batch_size: int = 32,
    progress: bool = True,
    ocr: PageReader | None = None,
    embedded: Embedded | None = None,
) -> IngestReport:
    """Index files and folders; `ocr` reads scanned pages and images (None refuses them).

    The next file is loaded and chunked in a second thread while this one is embedded:
    the embedding runtime leaves Python's lock while it computes, so a PDF's layout or an
    OCR'd page costs little extra time.
    """
    report = IngestReport()
    file = FileIngest(kb, embedder, chunking, limits, batch_size, progress, ocr, embedded)
    with kb.write_lock(), ThreadPoolExecutor(1, thread_name_prefix="load") as loader:
        kb.check_embedder(embedder, claim=True)
        files = discover(paths, report, limits)
        bar = tqdm(
            total=len(files),
            desc=f"Ingesting into {kb.name}",
            unit="file",
            disable=not progress,
            file=sys.stderr,
        )
        loading: deque[tuple[Path, Future[Prepared]]] = deque()
        for path in files:
            try:
                todo = file.changed(path, report)
            except Exception as exc:  # one bad file never stops the others
                todo = None
                _failed(path, exc, report)
            if todo is None:
                bar.update()
            else:
                loading.append((path, loader.submit(file.prepare, todo)))
            _commit_loaded(loading, file, report, bar, keep=1)
        _commit_loaded(loading, file, report, bar, keep=0)
        bar.close()
        kb.save_snapshot()
    return report


def _commit_loaded(
    loading: deque[tuple[Path, Future[Prepared]]],
    file: FileIngest,
    report: IngestReport,
    bar: tqdm,
    keep: int,
) -> None:
    """Embed and commit files in order, until `keep` are left loading."""
    while len(loading) > keep:
        path, loaded = loading.popleft()
        bar.set_postfix_str(shown(path.name[-40:]))
        try:
            file.commit(loaded.result(), report)
        except Exception as exc:  # one bad file never stops the others
            _failed(path, exc, report)
        bar.update()


def _failed(path: Path, exc: Exception, report: IngestReport) -> None:
    reason = failure_reason(exc)
    report.failed.append((shown(path), reason))
    tqdm.write(f"  skipped {shown(path)}: {reason}", file=sys.stderr)


def failure_reason(exc: Exception) -> str:
    """What went wrong with one file, in words a user can act on."""
    if isinstance(exc, LoaderError):
        return exc.reason
    if isinstance(exc, RecursionError):
        return "nested too deeply to read (RecursionError); is it damaged or hostile?"
    if isinstance(exc, MemoryError):
        return "too large to read in memory; split it"
    return f"cannot read this file ({type(exc).__name__}: {str(exc)[:200]}); is it damaged?"


@dataclass(frozen=True)
class Changed:
    """A file whose bytes or pipeline differ from what the knowledge base holds."""

    path: Path
    content_hash: str
    pipeline: str
    updated: bool  # it was indexed before (else it is new)


@dataclass(frozen=True)
class Prepared:
    """A file loaded and chunked, ready to embed."""

    changed: Changed
    document: LoadedDocument
    chunks: list[Chunk]
    notes: list[str]


@dataclass
class FileIngest:
    """One file: unchanged, or loaded and chunked (`prepare`, safe in another thread:
    it reads no catalog), then embedded and committed batch by batch (`commit`)."""

    kb: KnowledgeBase
    embedder: Embedder
    chunking: ChunkingSettings
    limits: IngestLimits
    batch_size: int
    progress: bool
    ocr: PageReader | None
    embedded: Embedded | None = None

    def changed(self, path: Path, report: IngestReport) -> Changed | None:
        """None (and noted as unchanged) when the knowledge base is up to date with it."""
        pipeline = self.chunking.fingerprint() + reader_version(path)
        try:
            content_hash = sha256_of(path) if path.is_file() else ""
        except OSError as exc:
            raise LoaderError(path, f"cannot read the file ({exc.strerror})") from exc
        known = self.kb.catalog.find_document(str(path))
        if known and known.content_hash == content_hash and known.pipeline == pipeline:
            report.unchanged.append(str(path))
            return None
        return Changed(path, content_hash, pipeline, bool(known and known.complete))

    def prepare(self, todo: Changed) -> Prepared:
        path = todo.path
        doc = load_document(path, self.ocr)  # raises LoaderError with the reason
        if not doc.title:  # the file declares none: the first title-like line
            doc = replace(doc, title=document_title(doc.text))
        notes = []
        instructions = instruction_spans(doc.text)
        if instructions:
            start, end = instructions[0]
            notes.append(
                f"{len(instructions)} sentence(s) address an AI assistant (first:"
                f" {doc.text[start:end][:60]!r}); answers never read them"
            )
        chunks = chunk_document(
            doc.text,
            self.chunking.size,
            self.chunking.overlap,
            title=doc.title,
            headings=doc.headings,
            structured=doc.structured,
            labels=self.chunking.labels,
        )
        if not chunks:
            raise LoaderError(path, "no text to index after extraction")
        if len(chunks) > self.limits.max_chunks_per_file:
            raise LoaderError(
                path,
                f"{len(chunks):,} chunks, over the limit of {self.limits.max_chunks_per_file:,}"
                " a file; split it, or raise RAG_INGEST_MAX_CHUNKS_PER_FILE",
            )
        return Prepared(todo, doc, chunks, notes)

    def commit(self, prepared: Prepared, report: IngestReport) -> None:
        todo, chunks = prepared.changed, prepared.chunks
        report.notes += [(shown(todo.path), note) for note in prepared.notes]
        doc_id, done = self.kb.catalog.begin_document(
            prepared.document, todo.content_hash, todo.pipeline
        )
        self._embed_and_commit(todo.path, doc_id, chunks, done)
        self.kb.catalog.finish_document(doc_id, todo.content_hash)
        (report.updated if todo.updated else report.added).append(str(todo.path))
        report.chunks_embedded += len(chunks) - done

    def _embed_and_commit(self, path: Path, doc_id: int, chunks: list[Chunk], done: int) -> None:
        todo = len(chunks) - done
        show = self.progress and todo > self.batch_size
        started = time.perf_counter()
        with tqdm(
            total=todo,
            desc="  embedding",
            unit="chunk",
            leave=False,
            disable=not show,
            file=sys.stderr,
        ) as bar:
            embedded = done

            def counted(n: int) -> None:
                nonlocal embedded
                embedded += n
                bar.update(n)
                if self.embedded is not None:
                    self.embedded(path, embedded, len(chunks))

            for first in range(done, len(chunks), self.limits.commit_chunks):
                batch = chunks[first : first + self.limits.commit_chunks]
                vectors = self._embed(batch, counted)
                tokens = [" ".join(tokenize(c.context)) for c in batch]
                self.kb.catalog.add_chunks(doc_id, first, batch, vectors, tokens)
                if show and first == done and todo > self.limits.commit_chunks:
                    rate = len(batch) / max(1e-6, time.perf_counter() - started)
                    tqdm.write(
                        f"  {shown(path.name)}: {todo:,} chunks to embed, about"
                        f" {todo / rate / 60:.0f} min at {rate:.0f} chunks/s",
                        file=sys.stderr,
                    )

    def _embed(self, chunks: list[Chunk], counted: Callable[[int], None]) -> np.ndarray:
        parts = []
        for i in range(0, len(chunks), self.batch_size):
            batch = [c.context for c in chunks[i : i + self.batch_size]]
            parts.append(self.embedder.embed_passages(batch))
            counted(len(batch))
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
