"""Uploads into a knowledge base, file by file: received (copied, counted, hashed),
then indexed one at a time, each with its own result, so one bad file never stops the
others and a long upload shows where it is (the chat's panel and the API's NDJSON
stream read these results as they come)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rag.errors import RagError
from rag.ingest.loaders import LOADERS, PAGED_LOADERS, is_supported
from rag.ingest.run import Embedded, IngestReport
from rag.store.catalog import Catalog
from rag.store.uploads import Received, UploadFolder, UploadRefused, check_file_name

# A file's status: "indexing" while it is read, chunked and embedded, then one of
# "added", "updated", "unchanged" (the same bytes are indexed already), "refused"
# (never stored: name, type or size) or "failed" (the loader's reason)
DONE = ("added", "updated", "unchanged")


@dataclass(frozen=True)
class FileResult:
    name: str
    status: str
    reason: str = ""
    chunks: int = 0  # indexed; while "indexing", embedded so far
    doc_id: int | None = None
    http_status: int = 200  # what this file alone would get
    total: int = 0  # while "indexing": the chunks it has to embed

    @property
    def final(self) -> bool:
        return self.status != "indexing"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.name,
            "status": self.status,
            "reason": self.reason,
            "chunks": self.chunks,
            "doc_id": self.doc_id,
            **({"total": self.total} if self.total else {}),
        }


def receive_all(
    files: Sequence[tuple[str, BinaryIO]], folder: UploadFolder
) -> list[Received | FileResult]:
    """Each file copied in, or the reason it was refused (name, type, size)."""
    out: list[Received | FileResult] = []
    for name, source in files:
        try:
            check_file_name(name)
            if not is_supported(Path(name)):
                supported = ", ".join(sorted([*LOADERS, *PAGED_LOADERS]))
                suffix = Path(name).suffix or "(none)"
                raise UploadRefused(
                    f"不支持的文件类型 {suffix}：{name}（支持 {supported}）",
                    f"unsupported file type {suffix}: {name} (use {supported})",
                    415,
                )
            out.append(folder.receive(name, source))
        except UploadRefused as exc:
            out.append(FileResult(name, "refused", exc.message("en"), http_status=exc.status))
    return out


def index_received(
    received: Sequence[Received | FileResult],
    folder: UploadFolder,
    catalog: Catalog,
    ingest_file: Callable[[Path, Embedded], IngestReport],
    notify: Callable[[FileResult], None],
) -> list[FileResult]:
    """Index the received files one by one, telling `notify` as each starts ("indexing",
    then how many of its chunks are embedded) and ends; returns the final results."""
    results = []
    for item in received:
        if isinstance(item, FileResult):
            result = item
        else:
            result = _received_one(item, folder, catalog, ingest_file, notify)
        notify(result)
        results.append(result)
    return results


def _received_one(
    item: Received,
    folder: UploadFolder,
    catalog: Catalog,
    ingest_file: Callable[[Path, Embedded], IngestReport],
    notify: Callable[[FileResult], None],
) -> FileResult:
    same = next(
        (d for d in catalog.documents() if d.complete and d.content_hash == item.content_hash),
        None,
    )
    if same is not None:
        folder.discard(item)
        note = "" if same.name == item.name else f"same content as {same.name}"
        return FileResult(item.name, "unchanged", note, same.chunks, same.id)
    notify(FileResult(item.name, "indexing"))

    def embedded(_: Path, done: int, total: int) -> None:
        notify(FileResult(item.name, "indexing", chunks=done, total=total))

    placed = folder.place(item)
    try:
        report = ingest_file(placed.path, embedded)
    except RagError as exc:
        folder.undo(placed)
        return FileResult(item.name, "failed", str(exc), http_status=422)
    except BaseException:
        folder.undo(placed)
        raise
    if report.failed:
        folder.undo(placed)
        return FileResult(item.name, "failed", report.failed[0][1], http_status=422)
    folder.keep(placed)
    doc = catalog.find_document(str(placed.path.resolve()))
    status = "updated" if report.updated else "added" if report.added else "unchanged"
    note = "; ".join(remark for _, remark in report.notes)
    return FileResult(item.name, status, note, doc.chunks if doc else 0, doc.id if doc else None)


def overall_status(results: Sequence[FileResult]) -> int:
    """200 when any file was indexed or already there, else the first refusal's status."""
    finals = [r for r in results if r.final]
    if any(r.status in DONE for r in finals) or not finals:
        return 200
    return finals[0].http_status
