"""What every loader shares: the size guards and line tidying."""

from __future__ import annotations

from pathlib import Path

from rag.errors import LoaderError
from rag.types import Heading

__all__ = ["LoaderError", "check_zip", "locate_headings", "read_bytes", "tidy_lines"]

MAX_FILE_BYTES = 50 * 1024 * 1024


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


def locate_headings(text: str, found: list[tuple[int, str]]) -> tuple[Heading, ...]:
    """Place the headings a loader met, (level, title) in reading order, at the lines of
    `text` that hold them, each after the one before."""
    starts: list[tuple[int, str]] = []
    pos = 0
    for raw in text.split("\n"):
        starts.append((pos, raw.strip()))
        pos += len(raw) + 1
    headings: list[Heading] = []
    k = 0
    for level, title in found:
        for j in range(k, len(starts)):
            if starts[j][1] == title:
                offset = starts[j][0] + text[starts[j][0] :].index(title[:1])
                headings.append(Heading(offset, level, title))
                k = j + 1
                break
    return tuple(headings)


# A zip-based document (DOCX) is refused before it is unpacked if its parts would
# decompress beyond these: a 50 MB .docx of text is already a very long book.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_UNPACK_RATIO = 200  # a part squeezed more than this is a zip bomb, not a document


def check_zip(path: Path, data: bytes) -> None:
    """Refuse a zip whose declared sizes would unpack into a bomb (the declared sizes
    are checked again while reading, by zipfile itself)."""
    import io
    import zipfile

    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoaderError(path, f"not a valid zip container ({exc}); is it damaged?") from exc
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        raise LoaderError(
            path,
            f"unpacks to {total / 2**20:.0f} MB, over the {MAX_UNPACKED_BYTES / 2**20:.0f} MB"
            " limit (a zip bomb?)",
        )
    for m in members:
        if m.file_size > 10 * 2**20 and m.file_size > MAX_UNPACK_RATIO * max(1, m.compress_size):
            raise LoaderError(
                path,
                f"part {m.filename} unpacks {m.file_size // max(1, m.compress_size)} times its"
                " size (a zip bomb?)",
            )
