"""What every loader shares: the error type and the size guard."""

from __future__ import annotations

from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024


class LoaderError(Exception):
    """A file that cannot be turned into text. The message names the file and what to do."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    max_bytes = max_bytes or MAX_FILE_BYTES
    if not path.exists():
        raise LoaderError(path, "no such file")
    if not path.is_file():
        raise LoaderError(path, "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoaderError(
            path,
            f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit; "
            "split it or raise the limit",
        )
    data = path.read_bytes()
    if not data.strip():
        raise LoaderError(path, "file is empty")
    return data


def tidy_lines(text: str) -> str:
    """Normalise line ends and trailing blanks; keep blank lines, they separate paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
