"""A knowledge base's cache of what the language model computed reading each passage.

Reading a passage is most of the wait before an answer starts on two CPU cores
(issue 15). A backend that can keep what it computed (llama.cpp's key/value state of a
passage's tokens) stores it here once and restores it for every later question that
brings the passage. The bytes are the backend's; this class only keeps them:

- one file per passage state, `<chunk id>-<key>.kv`, where `key` is a hash of
  everything that made the state (model file, prompt prefix, passage tokens, cache
  type), so a changed model or prompt misses instead of restoring a wrong state;
- written atomically (a temporary file renamed over), so a crash leaves no half file;
- within a disk budget: the least recently used states go first;
- states of chunks the knowledge base no longer holds are removed with `keep_only`.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

_NAME = re.compile(r"^(\d+)-([0-9a-f]{16,64})\.kv$")


class PassageStates:
    def __init__(self, folder: Path, budget_bytes: int):
        self.folder = folder
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes on disk, counted once, then kept up to date

    def get(self, chunk_id: int, key: str) -> bytes | None:
        path = self._path(chunk_id, key)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: kept longest when the budget is reached
        except FileNotFoundError:
            return None
        return data

    def put(self, chunk_id: int, key: str, data: bytes) -> None:
        """Store a state; states over the budget, least recently used first, make room.
        A state larger than the whole budget is not stored."""
        if len(data) > self.budget_bytes:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(chunk_id, key)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            with self._lock:
                old = path.stat().st_size if path.exists() else 0
                before = self._counted()
                os.replace(tmp, path)
                self._size = before - old + len(data)
                self._evict(keep=path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def has(self, chunk_id: int, key: str) -> bool:
        return self._path(chunk_id, key).exists()

    def chunk_ids(self) -> set[int]:
        """The chunks with at least one state stored."""
        return {int(m.group(1)) for m in self._files_named()}

    def keep_only(self, chunk_ids: set[int]) -> int:
        """Remove the states of every chunk not in `chunk_ids` (a removed or replaced
        document's); the number of files removed."""
        removed = 0
        with self._lock:
            for match in self._files_named():
                if int(match.group(1)) not in chunk_ids:
                    (self.folder / match.group(0)).unlink(missing_ok=True)
                    removed += 1
            self._size = None
        return removed

    def size_bytes(self) -> int:
        with self._lock:
            return self._counted()

    def _path(self, chunk_id: int, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{16,64}", key):
            raise ValueError(f"a state key is a hex digest, not {key!r}")
        return self.folder / f"{int(chunk_id)}-{key}.kv"

    def _files_named(self) -> list[re.Match[str]]:
        if not self.folder.is_dir():
            return []
        return [m for p in self.folder.iterdir() if (m := _NAME.match(p.name))]

    def _counted(self) -> int:
        if self._size is None:
            self._size = sum((self.folder / m.group(0)).stat().st_size for m in self._files_named())
        return self._size

    def _evict(self, keep: Path) -> None:
        if self._counted() <= self.budget_bytes:
            return
        files = [self.folder / m.group(0) for m in self._files_named()]
        files = [f for f in files if f != keep]
        files.sort(key=lambda f: f.stat().st_mtime)
        for f in files:
            if self._counted() <= self.budget_bytes:
                break
            size = f.stat().st_size
            f.unlink(missing_ok=True)
            self._size = self._counted() - size
