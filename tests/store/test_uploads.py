"""The folder uploads are kept in: limits, names, versions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.store.uploads import UploadFolder, UploadRefused, check_file_name


def test_an_oversize_file_is_stopped_and_leaves_nothing(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "files", max_bytes=3 << 20)
    with pytest.raises(UploadRefused) as refused:
        folder.receive("big.txt", io.BytesIO(b"x" * (4 << 20)))
    assert refused.value.status == 413
    assert list(folder.folder.iterdir()) == []


def test_received_then_placed_under_its_name(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "files", max_bytes=1000)
    received = folder.receive("a.txt", io.BytesIO(b"one"))
    assert received.size == 3 and len(received.content_hash) == 64
    assert received.temporary.name.startswith(".")  # hidden until placed
    placed = folder.place(received)
    assert placed.path.read_bytes() == b"one" and placed.aside is None


def test_a_new_version_keeps_the_old_aside_until_told(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "files", max_bytes=1000)
    folder.place(folder.receive("a.txt", io.BytesIO(b"one")))
    newer = folder.place(folder.receive("a.txt", io.BytesIO(b"two")))
    assert newer.path.read_bytes() == b"two"
    folder.undo(newer)  # the new one could not be indexed
    assert newer.path.read_bytes() == b"one"
    third = folder.place(folder.receive("a.txt", io.BytesIO(b"three")))
    folder.keep(third)
    assert [p.name for p in folder.folder.iterdir()] == ["a.txt"]
    assert third.path.read_bytes() == b"three"


@pytest.mark.parametrize(
    "name", ["", " ", "../a.txt", "a/b.txt", "a\\b.txt", "c:x.txt", ".env", "a\x00.txt",
             "a\u202e.txt", "é" * 150]
)  # fmt: skip
def test_names_that_could_point_elsewhere_are_refused(name: str) -> None:
    with pytest.raises(UploadRefused) as refused:
        check_file_name(name)
    assert refused.value.status == 400


@pytest.mark.parametrize("name", ["报告.pdf", "Q3 plan (final).docx", "a.b.c.txt"])
def test_ordinary_names_pass(name: str) -> None:
    assert check_file_name(name) == name


def test_delete_only_touches_its_own_folder(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "files", max_bytes=1000)
    outside = tmp_path / "keep.txt"
    outside.write_text("mine")
    assert folder.delete(outside) is False and outside.exists()
