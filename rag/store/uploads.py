"""Files users upload into a knowledge base, kept in its folder (`files/`).

A file arrives under a temporary hidden name, counted and hashed as it is copied, so an
oversize one is stopped and deleted before it is whole. It then takes its own name: the
name the user gave, refused rather than repaired when it could point anywhere else (a
path, `..`, control characters). A file of the same name is the same document in a new
version: the old one is kept aside until the new one has been indexed, and put back
if it cannot be.
"""

from __future__ import annotations

import hashlib
import os
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rag.errors import RagError

FILES = "files"  # the folder, inside the knowledge base's, uploads are kept in
_INCOMING = ".incoming-"
_ASIDE = ".aside-"
_MAX_NAME_BYTES = 200
_STALE_S = 3600  # an incoming file this old belongs to a process that died


class UploadRefused(RagError):
    """One uploaded file not taken; `status` is the HTTP status it would get alone."""

    code = "upload"

    def __init__(self, zh: str, en: str, status: int):
        super().__init__(zh, en)
        self.status = status


def check_file_name(name: str) -> str:
    """`name` if it is a plain file name; UploadRefused (400) for anything that could
    name another place or hide what it is."""
    bad = None
    if not name or not name.strip():
        bad = ("文件名为空", "the file name is empty")
    elif "/" in name or "\\" in name or ":" in name:
        bad = ("文件名里不能有路径（/、\\ 或 :）", "a file name may not hold a path (/, \\ or :)")
    elif name.startswith("."):
        bad = ("文件名不能以 . 开头", "a file name may not start with '.'")
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name):
        bad = ("文件名里有控制字符", "the file name holds control characters")
    elif len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        bad = ("文件名太长", f"the file name is over {_MAX_NAME_BYTES} bytes")
    if bad:
        zh, en = bad
        raise UploadRefused(f"{zh}：{name!r}", f"{en}: {name!r}", 400)
    return name


@dataclass(frozen=True)
class Received:
    """An upload copied whole into the folder under a temporary name."""

    name: str  # as the user gave it, checked
    temporary: Path
    content_hash: str  # sha256, as ingest computes it
    size: int


@dataclass(frozen=True)
class Placed:
    """A received file under its own name; `aside` holds the version it replaced."""

    path: Path
    aside: Path | None


class UploadFolder:
    def __init__(self, folder: Path, max_bytes: int):
        self.folder = folder
        self.max_bytes = max_bytes

    def receive(self, name: str, source: BinaryIO) -> Received:
        """Copy `source` in, within `max_bytes`; nothing stays behind when it is refused."""
        check_file_name(name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._remove_stale()
        temporary = self.folder / f"{_INCOMING}{uuid.uuid4().hex}"
        digest, size = hashlib.sha256(), 0
        try:
            with temporary.open("xb") as out:
                for block in iter(lambda: source.read(1 << 20), b""):
                    size += len(block)
                    if size > self.max_bytes:
                        raise UploadRefused(
                            f"文件太大：超过每个文件 {self.max_bytes:,} 字节的上限：{name}",
                            f"over the limit of {self.max_bytes:,} bytes a file"
                            " (RAG_MAX_UPLOAD_BYTES): " + name,
                            413,
                        )
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return Received(name, temporary, digest.hexdigest(), size)

    def place(self, received: Received) -> Placed:
        """Give a received file its name; a file already there is kept aside."""
        path = self.folder / received.name
        aside = None
        if path.exists():
            aside = self.folder / f"{_ASIDE}{uuid.uuid4().hex}"
            os.replace(path, aside)
        os.replace(received.temporary, path)
        return Placed(path, aside)

    def keep(self, placed: Placed) -> None:
        """The new version was indexed: the old one goes."""
        if placed.aside is not None:
            placed.aside.unlink(missing_ok=True)

    def undo(self, placed: Placed) -> None:
        """The new version could not be indexed: the old one comes back, or none."""
        if placed.aside is not None:
            os.replace(placed.aside, placed.path)
        else:
            placed.path.unlink(missing_ok=True)

    def discard(self, received: Received) -> None:
        received.temporary.unlink(missing_ok=True)

    def delete(self, path: Path) -> bool:
        """Delete a kept file; only ever one directly in this folder."""
        if path.parent.resolve() != self.folder.resolve() or path.name.startswith("."):
            return False
        path.unlink(missing_ok=True)
        return True

    def holds(self, path: Path) -> bool:
        return path.parent.resolve() == self.folder.resolve()

    def _remove_stale(self) -> None:
        cutoff = time.time() - _STALE_S
        for leftover in self.folder.glob(".*-*"):
            if leftover.name.startswith((_INCOMING, _ASIDE)) and leftover.stat().st_mtime < cutoff:
                leftover.unlink(missing_ok=True)
