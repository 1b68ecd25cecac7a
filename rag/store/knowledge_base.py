"""A named knowledge base on disk: its catalog, its search snapshot, its write lock."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

from rag.errors import KnowledgeBaseError
from rag.models.embeddings.base import Embedder
from rag.settings import Settings
from rag.store.catalog import Catalog
from rag.store.keyword_index import KeywordIndex
from rag.store.milvus_index import MilvusSearchIndex, MilvusStore
from rag.store.passage_states import PassageStates
from rag.store.search_index import SearchIndex, Snapshot
from rag.store.vector_index import (
    DEFAULT_INDEX,
    IndexChoice,
    build_index,
    read_snapshot,
    write_snapshot,
)

_REOPEN_S = 5.0  # how stale a Milvus collection's counts may be, seen from this process
_KB_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def validate_kb_name(name: str) -> str:
    if not name or not set(name) <= _KB_NAME_CHARS or len(name) > 64:
        raise KnowledgeBaseError(
            f"invalid knowledge-base name {name!r}: use letters, digits, '-' and '_' only"
        )
    return name


def require_existing(settings: Settings, name: str) -> str:
    """`name`, checked, if that knowledge base has been built; else a KnowledgeBaseError
    that says how to build it."""
    validate_kb_name(name)
    if (settings.kb_dir(name) / "catalog.sqlite3").exists():
        return name
    milvus = milvus_store(settings)
    if milvus is None or milvus.about(name) is None:  # another machine may have filled it
        raise KnowledgeBaseError(
            f"knowledge base {name!r} does not exist yet; build it with "
            f"`rag ingest --kb {name} PATH`"
        )
    return name


def list_knowledge_bases(settings: Settings) -> list[str]:
    """Built knowledge bases; never a rebuild's side folder (".NAME.rebuild-…")."""
    names: set[str] = set()
    if settings.index_dir.exists():
        names = {p.parent.name for p in settings.index_dir.glob("*/catalog.sqlite3")}
    if (milvus := milvus_store(settings)) is not None:
        names |= set(milvus.knowledge_bases())
    return sorted(n for n in names if set(n) <= _KB_NAME_CHARS)


def side_folder(index_dir: Path, name: str, purpose: str) -> Path:
    """A rebuild's staging (purpose "rebuild") or trash ("old") folder, named after this
    process so that `remove_stale_side_folders` can tell a dead one from a live one."""
    return index_dir / f".{name}.{purpose}-{os.getpid()}-{threading.get_ident()}"


_SIDE_FOLDER = re.compile(r"^\.[A-Za-z0-9_-]+\.(?:rebuild|old)-(\d+)-\d+$")


def remove_stale_side_folders(index_dir: Path) -> list[Path]:
    """Delete the side folders of rebuilds whose process is gone (killed mid-build)."""
    removed: list[Path] = []
    if not index_dir.is_dir():
        return removed
    for folder in index_dir.iterdir():
        match = _SIDE_FOLDER.match(folder.name)
        if match and folder.is_dir() and not _process_alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def index_choice(settings: Settings) -> IndexChoice:
    return IndexChoice(settings.vector_index_exact_up_to, settings.vector_index_nprobe)


def milvus_store(settings: Settings) -> MilvusStore | None:
    """The Milvus that knowledge bases are searched in, or None for FAISS."""
    if settings.vector_store != "milvus":
        return None
    uri = settings.milvus_uri or str(settings.index_dir / "milvus.db")
    return MilvusStore(uri, settings.milvus_token)


class KnowledgeBase:
    def __init__(
        self,
        directory: Path,
        index: IndexChoice = DEFAULT_INDEX,
        milvus: MilvusStore | None = None,
    ):
        self.directory = directory
        self.index = index  # which FAISS index its vectors get, by their number
        self.milvus = milvus  # where it is searched instead of FAISS, if anywhere
        self.name = directory.name
        self.catalog = Catalog(directory / "catalog.sqlite3")
        self._snapshot: Snapshot | None = None
        self._milvus_index: tuple[tuple[tuple[int, int], float], MilvusSearchIndex] | None = None
        self._snapshot_key: tuple[int, int] = (0, 0)
        self._snapshot_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, name: str | None = None) -> KnowledgeBase:
        directory = settings.kb_dir(validate_kb_name(name or settings.kb))
        return cls(directory, index_choice(settings), milvus_store(settings))

    @classmethod
    def open_existing(cls, settings: Settings, name: str | None = None) -> KnowledgeBase:
        directory = settings.kb_dir(require_existing(settings, name or settings.kb))
        return cls(directory, index_choice(settings), milvus_store(settings))

    # ------------------------------------------------------------------ options

    #: what a knowledge base may set for itself, with the default when it sets nothing
    OPTIONS: ClassVar[dict[str, bool]] = {"ocr": True}

    def option(self, key: str) -> bool:
        value = self.catalog.get_meta(f"option.{key}")
        return self.OPTIONS[key] if value is None else value == "on"

    def set_option(self, key: str, on: bool) -> None:
        if key not in self.OPTIONS:
            raise KnowledgeBaseError(f"no option {key!r}; known: {', '.join(self.OPTIONS)}")
        self.catalog.set_meta(f"option.{key}", "on" if on else "off")

    def options(self) -> dict[str, bool]:
        return {key: self.option(key) for key in self.OPTIONS}

    # ------------------------------------------------------------------ model check

    def check_embedder(self, embedder: Embedder, *, claim: bool = False) -> None:
        """Refuse an embedder other than the one that built this index. With claim=True
        (an ingest), an empty knowledge base records this embedder as its own."""
        built_with = self.catalog.get_meta("embedding_model")
        if built_with is None and self.milvus is not None:  # filled from another machine
            built_with = (self.milvus.about(self.name) or {}).get("model") or None
        if built_with is None:
            if claim:
                self.catalog.set_meta("embedding_model", embedder.model_id)
                self.catalog.set_meta("embedding_dim", str(embedder.dim))
            return
        if built_with != embedder.model_id:
            raise KnowledgeBaseError(
                f"knowledge base {self.name!r} was built with the embedding model "
                f"{built_with!r}, but this run uses {embedder.model_id!r}. Set "
                f"RAG_EMBEDDING_MODEL={built_with} to use it, or rebuild it with "
                f"`rag ingest --kb {self.name} --rebuild PATH`."
            )

    # ------------------------------------------------------------------ writing

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time per knowledge base, across processes."""
        with self._write_lock(wait=True):
            yield

    @contextmanager
    def _write_lock(self, wait: bool) -> Iterator[bool]:
        """The write lock; without `wait`, yields False at once when another holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "write.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    yield False
                    return
                print(
                    f"Waiting for another ingest into {self.name!r} to finish...", file=sys.stderr
                )
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def save_snapshot(self) -> None:
        """Make what the catalog holds now searchable (call under the write lock): the
        FAISS file of this generation, or the Milvus collection brought level. A
        rebuild's side folder has no collection of its own: `publish` after the swap."""
        if self.milvus is not None:
            if not self.name.startswith("."):
                self.publish()
            return
        rows = self.catalog.snapshot_rows(with_vectors=True)
        dim = self._dim()
        vectors = rows.vectors if rows.vectors is not None else _empty(dim)
        write_snapshot(build_index(vectors, dim, self.index), self.directory, rows.generation)

    def publish(
        self, progress: Callable[[int, int], None] | None = None, replace: bool = False
    ) -> int:
        """Copy the catalog's changes into Milvus, embedding nothing; rows written.
        `replace`: this catalog's copy replaces one filled from another."""
        if self.milvus is None:
            raise KnowledgeBaseError("publish copies into Milvus: set RAG_VECTOR_STORE=milvus")
        return self.milvus.sync(self.name, self.catalog, self._dim(), progress, replace)

    # ------------------------------------------------------------------ reading

    def search_index(self) -> SearchIndex:
        """What a search reads: the FAISS snapshot, or the Milvus collection, opened
        again when the catalog has changed or, for what other machines write into it,
        every few seconds, so that its counts are fresh."""
        if self.milvus is None:
            return self.snapshot()
        key = (self.catalog.path.stat().st_ino, self.catalog.generation())
        now = time.monotonic()
        with self._snapshot_lock:
            if self._milvus_index is None or self._milvus_index[0] != (key, now // _REOPEN_S):
                self._catch_up()
                self._milvus_index = ((key, now // _REOPEN_S), self.milvus.search_index(self.name))
            return self._milvus_index[1]

    def _catch_up(self) -> None:
        """Publish what an ingest killed before publishing left in the catalog (its
        lock is free and the catalog is ahead of Milvus), as the FAISS engine rebuilds
        a lagging snapshot in memory. A running ingest publishes itself; a folder that
        never held chunks (a reader of what another machine filled) has nothing to add."""
        synced = self.catalog.get_meta("milvus.synced")
        if synced is None and not self.catalog.count_chunks():
            return
        if synced is not None and synced.endswith(f" {self.catalog.generation()}"):
            return
        # filled from another folder (a rebuild mid-swap): search what it holds
        with self._write_lock(wait=False) as mine, suppress(KnowledgeBaseError):
            if mine:
                self.publish()

    def snapshot(self) -> Snapshot:
        """The current search snapshot; reloaded only when the catalog has changed.

        The catalog file's inode is part of the key: `--rebuild` swaps in a new catalog
        whose generations count from 1 again, and a server must not keep the old one."""
        key = (self.catalog.path.stat().st_ino, self.catalog.generation())
        with self._snapshot_lock:
            if self._snapshot is None or self._snapshot_key != key:
                self._snapshot = self._load_snapshot()
                self._snapshot_key = key
            return self._snapshot

    def _load_snapshot(self) -> Snapshot:
        rows = self.catalog.snapshot_rows(with_vectors=False)
        index = read_snapshot(self.directory, rows.generation, len(rows.ids))
        if index is None:
            # The FAISS file lags (an ingest is running or was killed): rebuild from the
            # catalog in memory. Both reads are of one generation, so they agree.
            rows = self.catalog.snapshot_rows(with_vectors=True)
            dim = self._dim()
            vectors = rows.vectors if rows.vectors is not None else _empty(dim)
            index = build_index(vectors, dim, self.index)
        return Snapshot(rows.generation, rows.ids, index, KeywordIndex(rows.tokens), self.catalog)

    # ------------------------------------------------------------------ passage states

    def passage_states(self, budget_bytes: int) -> PassageStates:
        """What the language model computed reading this knowledge base's passages."""
        return PassageStates(self.directory / "passage_states", budget_bytes)

    def _dim(self) -> int:
        return int(self.catalog.get_meta("embedding_dim") or 0) or 1


def _empty(dim: int) -> Any:
    import numpy as np

    return np.zeros((0, dim), np.float32)
