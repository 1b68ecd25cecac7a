"""The SQLite catalog of one knowledge base: documents, chunks and their vectors.

It is the source of truth. A document's chunks are written in batches, each its own
transaction that bumps the catalog's generation, so a crash loses at most the batch in
flight and the next ingest resumes the document where it stopped; the FAISS file is only
a snapshot of the vectors here, rebuilt when its generation lags.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.types import Chunk, LoadedDocument, page_of

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    loader TEXT NOT NULL,
    encoding TEXT,
    text TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    pages TEXT NOT NULL DEFAULT '',
    ocr_pages TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    section TEXT NOT NULL,
    context TEXT NOT NULL,
    tokens TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""
# Columns added since the first catalogs: an older catalog gains them when opened (its
# documents are read again anyway, because the pipeline version changed with them).
_ADDED_COLUMNS = {
    "documents": {
        "title": "TEXT NOT NULL DEFAULT ''",
        "pages": "TEXT NOT NULL DEFAULT ''",
        "ocr_pages": "TEXT NOT NULL DEFAULT ''",
    },
}
PARTIAL = "partial:"  # the hash of a document whose chunks are still being written
_BUSY_TIMEOUT_S = 30  # how long a connection waits for another one's write to finish


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    path: str
    name: str
    content_hash: str
    pipeline: str
    chunks: int
    chars: int
    title: str
    loader: str = ""  # what read it: "pdf", "docx", "html", "text", ...
    ingested_at: str = ""  # ISO 8601, UTC

    @property
    def complete(self) -> bool:
        """False while its chunks are being written, or after an ingest killed mid-way."""
        return not self.content_hash.startswith(PARTIAL)

    def file_size(self) -> int | None:
        """The bytes of its file now; None when the file is gone."""
        try:
            return Path(self.path).stat().st_size
        except OSError:
            return None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "type": self.loader,
            "bytes": self.file_size(),
            "chunks": self.chunks,
            "indexed_at": self.ingested_at,
            "complete": self.complete,
        }


@dataclass(frozen=True)
class SnapshotRows:
    generation: int
    ids: list[int]
    tokens: list[list[str]]
    vectors: np.ndarray | None


@dataclass(frozen=True)
class ChunkRow:
    id: int
    source: str
    path: str
    section: str
    start: int
    end: int
    text: str
    context: str
    title: str
    page_starts: str  # where each page starts in the document text ("0 1830 3721")
    ocr_pages: str  # the pages read by OCR ("2 3")

    def page_at(self, offset: int) -> int | None:
        """The 1-based page an offset of the document falls on; None without pages."""
        return page_of(self._starts, offset)

    def read_by_ocr(self, offset: int) -> bool:
        page = self.page_at(offset)
        return page is not None and str(page) in self.ocr_pages.split()

    @property
    def page_breaks(self) -> tuple[int, ...]:
        """Offsets inside the chunk where a new page begins."""
        return tuple(s for s in self._starts if self.start < s < self.end)

    @property
    def _starts(self) -> list[int]:
        return [int(n) for n in self.page_starts.split()]


def fingerprint(content_hash: str, start: int, end: int) -> int:
    """Which version of a chunk a copy holds: SQLite may give a deleted chunk's id to a
    new one, so an id alone does not say a copied row is current."""
    return zlib.crc32(f"{content_hash}:{start}:{end}".encode())


# A ChunkRow's fields, in order
_CHUNK_COLUMNS = (
    "c.id, d.name, d.path, c.section, c.start, c.end,"
    " substr(d.text, c.start + 1, c.end - c.start), c.context, d.title, d.pages, d.ocr_pages"
)


class Catalog:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.executescript(_SCHEMA)
            _add_missing_columns(db)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection; commits on success, rolls back on any error."""
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)
        try:
            _use_wal(db)
            db.execute("PRAGMA foreign_keys=ON")
            with db:
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        with self.connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.connect() as db:
            _set_meta(db, key, value)

    def identity(self) -> str:
        """A name for this catalog, made once: a copy elsewhere (Milvus) records which
        catalog it was filled from."""
        with self.connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key='catalog_id'").fetchone()
            if row:
                return str(row[0])
            made = uuid.uuid4().hex
            _set_meta(db, "catalog_id", made)
            return made

    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # ------------------------------------------------------------------ writes

    def begin_document(
        self, doc: LoadedDocument, content_hash: str, pipeline: str
    ) -> tuple[int, int]:
        """Start (re)writing a document whose chunks then come in batches; returns its id
        and how many chunks it already has. Until `finish_document`, its hash says
        "partial:", so a killed ingest resumes it instead of starting over: only a
        partial version of the same bytes and pipeline is resumed, anything else is
        replaced."""
        path, partial = str(doc.path), PARTIAL + content_hash
        with self.connect() as db:
            row = db.execute(
                "SELECT id, content_hash, pipeline FROM documents WHERE path=?", (path,)
            ).fetchone()
            if row and row[1] == partial and row[2] == pipeline:
                done = db.execute("SELECT COUNT(*) FROM chunks WHERE doc_id=?", (row[0],))
                return int(row[0]), int(done.fetchone()[0])
            if row:
                db.execute("DELETE FROM documents WHERE id=?", (row[0],))
                _bump_generation(db)
            cur = db.execute(
                "INSERT INTO documents (path, name, content_hash, pipeline, loader, encoding, text,"
                " ingested_at, title, pages, ocr_pages) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    path,
                    doc.path.name,
                    partial,
                    pipeline,
                    doc.loader,
                    doc.encoding,
                    doc.text,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    doc.title,
                    " ".join(map(str, doc.pages)),
                    " ".join(map(str, doc.ocr_pages)),
                ),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid, 0

    def add_chunks(
        self,
        doc_id: int,
        first: int,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        tokens: Sequence[str],
    ) -> None:
        """One committed batch of a document's chunks, numbered from `first`."""
        with self.connect() as db:
            db.executemany(
                "INSERT INTO chunks (doc_id, ord, start, end, section, context, tokens, vector)"
                " VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        doc_id,
                        first + n,
                        c.start,
                        c.end,
                        c.section,
                        c.context,
                        tok,
                        np.asarray(vec, np.float32).tobytes(),
                    )
                    for n, (c, vec, tok) in enumerate(zip(chunks, vectors, tokens, strict=True))
                ],
            )
            _bump_generation(db)

    def finish_document(self, doc_id: int, content_hash: str) -> None:
        with self.connect() as db:
            db.execute("UPDATE documents SET content_hash=? WHERE id=?", (content_hash, doc_id))

    def remove_document(self, path: str) -> bool:
        with self.connect() as db:
            removed = db.execute("DELETE FROM documents WHERE path=?", (path,)).rowcount > 0
            if removed:
                _bump_generation(db)
        return removed

    # ------------------------------------------------------------------ reads

    def documents(self) -> list[DocumentInfo]:
        with self.connect() as db:
            rows = db.execute(
                "SELECT d.id, d.path, d.name, d.content_hash, d.pipeline,"
                " (SELECT COUNT(*) FROM chunks c WHERE c.doc_id=d.id), length(d.text), d.title,"
                " d.loader, d.ingested_at FROM documents d ORDER BY d.path"
            ).fetchall()
        return [DocumentInfo(*row) for row in rows]

    def document(self, doc_id: int) -> DocumentInfo | None:
        return next((d for d in self.documents() if d.id == doc_id), None)

    def find_document(self, path: str) -> DocumentInfo | None:
        return next((d for d in self.documents() if d.path == path), None)

    def document_text(self, doc_id: int) -> str:
        with self.connect() as db:
            row = db.execute("SELECT text FROM documents WHERE id=?", (doc_id,)).fetchone()
        if row is None:
            raise KeyError(doc_id)
        return str(row[0])

    def snapshot_rows(self, with_vectors: bool) -> SnapshotRows:
        """Generation, chunk ids, keyword tokens (and vectors, to rebuild a FAISS
        snapshot), read in one transaction so that they agree with each other."""
        columns = "id, tokens, vector" if with_vectors else "id, tokens"
        with self.connect() as db:
            db.execute("BEGIN")
            gen_row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            rows = db.execute(f"SELECT {columns} FROM chunks ORDER BY id").fetchall()
        vectors = None
        if with_vectors and rows:
            vectors = np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return SnapshotRows(
            generation=int(gen_row[0]) if gen_row else 0,
            ids=[r[0] for r in rows],
            tokens=[r[1].split(" ") if r[1] else [] for r in rows],
            vectors=vectors,
        )

    def chunk_rows(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        return {row[0]: ChunkRow(*row) for row in self._chunks_with(ids, "")}

    def all_chunk_rows(self) -> dict[int, ChunkRow]:
        """Every chunk, by id in ascending order (what states, suggestions and checks walk)."""
        return {row[0]: ChunkRow(*row) for row in self._chunks_with(None, "")}

    def _chunks_with(self, ids: Sequence[int] | None, extra: str) -> list[tuple[Any, ...]]:
        """The ChunkRow columns of these chunks (None: of all, by id), then the `extra`
        columns."""
        if ids is not None and not ids:
            return []
        where = "" if ids is None else f" WHERE c.id IN ({','.join('?' * len(ids))})"
        with self.connect() as db:
            return db.execute(
                f"SELECT {_CHUNK_COLUMNS}{extra}"
                f" FROM chunks c JOIN documents d ON d.id = c.doc_id{where} ORDER BY c.id",
                list(ids or []),
            ).fetchall()

    def chunk_document(self, chunk_id: int) -> tuple[ChunkRow, str] | None:
        """A chunk and its whole document's text, for the source viewer."""
        with self.connect() as db:
            row = db.execute(
                f"SELECT {_CHUNK_COLUMNS}, d.text"
                " FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id = ?",
                (chunk_id,),
            ).fetchone()
        return None if row is None else (ChunkRow(*row[:-1]), str(row[-1]))

    def chunk_fingerprints(self) -> dict[int, int]:
        """Each chunk's id with a checksum of its document's version and its span: what
        a copy elsewhere (Milvus) compares to learn which rows are out of date."""
        with self.connect() as db:
            rows = db.execute(
                "SELECT c.id, d.content_hash, c.start, c.end"
                " FROM chunks c JOIN documents d ON d.id = c.doc_id"
            ).fetchall()
        return {int(r[0]): fingerprint(r[1], r[2], r[3]) for r in rows}

    def export_rows(self, ids: Sequence[int]) -> list[tuple[ChunkRow, np.ndarray, str, int]]:
        """Everything a copy of these chunks needs: its citation fields, its vector, its
        keyword tokens and its fingerprint, so that copying embeds nothing again."""
        out = []
        for row in self._chunks_with(ids, ", c.vector, c.tokens, d.content_hash"):
            chunk = ChunkRow(*row[:-3])
            vector = np.frombuffer(row[-3], dtype=np.float32)
            out.append((chunk, vector, row[-2], fingerprint(row[-1], chunk.start, chunk.end)))
        return out

    def mean_tokens(self) -> float:
        """The mean number of keyword tokens a chunk holds (BM25's mean length)."""
        with self.connect() as db:
            row = db.execute(
                "SELECT AVG(CASE WHEN tokens = '' THEN 0"
                " ELSE LENGTH(tokens) - LENGTH(REPLACE(tokens, ' ', '')) + 1 END) FROM chunks"
            ).fetchone()
        return float(row[0] or 0.0)

    def chunk_ids(self) -> set[int]:
        with self.connect() as db:
            return {int(r[0]) for r in db.execute("SELECT id FROM chunks")}

    def count_chunks(self) -> int:
        with self.connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])


def _add_missing_columns(db: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns.items():
            if name not in have:
                try:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise


def _use_wal(db: sqlite3.Connection) -> None:
    """WAL mode, so searches read while an ingest writes. On a brand-new file two
    processes (two ingests started together) race to switch it, and SQLite answers the
    loser "database is locked" at once instead of waiting the busy timeout: wait here."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (key, value),
    )


def _bump_generation(db: sqlite3.Connection) -> None:
    row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
    _set_meta(db, "generation", str(int(row[0]) + 1 if row else 1))
