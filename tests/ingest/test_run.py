from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rag.service import RagService
from rag.store.knowledge_base import KnowledgeBase, KnowledgeBaseError
from tests.fakes.embedder import HashingEmbedder


def _kb(service: RagService) -> KnowledgeBase:
    return KnowledgeBase.open_existing(service.settings)


def test_first_ingest_adds_every_supported_file(service: RagService) -> None:
    report = service.ingest(progress=False)
    assert sorted(Path(p).name for p in report.added) == ["notes.md", "page.html", "plan.txt"]
    assert report.chunks_embedded == _kb(service).catalog.count_chunks() > 3
    snap = _kb(service).snapshot()
    assert snap.vectors.ntotal == len(snap.chunk_ids) == report.chunks_embedded


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed_passages(texts)


def test_reingest_of_unchanged_files_embeds_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    embedder = CountingEmbedder()
    service = RagService(settings, embedder=embedder)
    service.ingest(progress=False)
    first = embedder.embedded
    report = service.ingest(progress=False)
    assert embedder.embedded == first
    assert len(report.unchanged) == 3 and not report.added and not report.updated


def test_changed_file_replaces_its_chunks(service: RagService, corpus: Path) -> None:
    service.ingest(progress=False)
    (corpus / "notes.md").write_text("# 新内容\n\n今年建成智慧停车位8000个。", encoding="utf-8")
    report = service.ingest(progress=False)
    assert [Path(p).name for p in report.updated] == ["notes.md"]
    hits = service.search("智慧停车位", k=5)
    assert hits[0].source == "notes.md" and "8000个" in hits[0].text
    texts = " ".join(h.text for h in service.search("高层次人才团队", k=10))
    assert "高层次人才团队30个" not in texts


def test_remove_deletes_rows_and_vectors(service: RagService, corpus: Path) -> None:
    service.ingest(progress=False)
    before = _kb(service).catalog.count_chunks()
    assert service.remove(corpus / "plan.txt")
    kb = _kb(service)
    assert kb.catalog.count_chunks() < before
    assert kb.snapshot().vectors.ntotal == kb.catalog.count_chunks()
    assert all(h.source != "plan.txt" for h in service.search("5G基站", k=10))
    assert not service.remove(corpus / "plan.txt")


def test_bad_files_are_reported_and_the_others_still_ingested(
    service: RagService, corpus: Path
) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (corpus / "gbk.txt").write_bytes("济南高新区的GBK文件。".encode("gbk"))
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    report = service.ingest(progress=False)
    failed = {Path(p).name: reason for p, reason in report.failed}
    assert set(failed) == {"empty.txt", "broken.pdf", "binary.txt", "photo.jpg"}
    assert "empty" in failed["empty.txt"] and "binary" in failed["binary.txt"]
    assert "damaged" in failed["photo.jpg"]  # an image is read by OCR: this one is cut off
    assert {Path(p).name for p in report.added} == {"notes.md", "page.html", "plan.txt", "gbk.txt"}


def test_nonexistent_path_is_a_failure_not_a_crash(service: RagService, tmp_path: Path) -> None:
    report = service.ingest([tmp_path / "missing.txt"], progress=False)
    assert report.failed and "no such file" in report.failed[0][1]


def test_index_refuses_another_embedding_model(service: RagService, settings) -> None:  # type: ignore[no-untyped-def]
    service.ingest(progress=False)
    other = HashingEmbedder(dim=64)
    other.model_id = "test:other-model"
    with pytest.raises(KnowledgeBaseError, match="was built with the embedding model"):
        RagService(settings, embedder=other).search("问题")


def test_knowledge_bases_are_separate(service: RagService, corpus: Path) -> None:
    service.ingest([corpus / "plan.txt"], kb="alpha", progress=False)
    service.ingest([corpus / "notes.md"], kb="beta", progress=False)
    assert {h.source for h in service.search("人才", kb="beta", k=10)} == {"notes.md"}
    assert {h.source for h in service.search("人才 基站", kb="alpha", k=10)} == {"plan.txt"}


def test_rebuild_swaps_in_a_fresh_index(service: RagService, corpus: Path) -> None:
    service.ingest(progress=False)
    (corpus / "notes.md").unlink()
    report = service.ingest(rebuild=True, progress=False)
    assert len(report.added) == 2
    assert all(h.source != "notes.md" for h in service.search("人才团队", k=10))
    assert not list(service.settings.index_dir.glob(".*"))  # no staging folder left behind


def test_missing_faiss_snapshot_is_rebuilt_from_the_catalog(service: RagService) -> None:
    service.ingest(progress=False)
    kb_dir = service.settings.kb_dir()
    for snapshot in kb_dir.glob("vectors-*.faiss"):
        snapshot.unlink()
    fresh = RagService(service.settings, embedder=HashingEmbedder())
    hits = fresh.search("新建5G基站多少个", k=3)
    assert "6000个" in hits[0].text


@pytest.mark.parametrize("name", ["../escape", "a/b", "名字"])
def test_invalid_kb_names_are_refused(service: RagService, name: str) -> None:
    with pytest.raises(KnowledgeBaseError, match="invalid knowledge-base name"):
        service.ingest(kb=name, progress=False)


def test_every_kind_of_bad_input_in_one_batch_loses_nothing(
    service: RagService, corpus: Path, tmp_path: Path
) -> None:
    """Issue 6: each bad input is reported with its file and reason; the good files in
    the same batch, in odd encodings too, are all indexed and searchable."""
    from tests.ingest.loaders.pdf_maker import write_blank_pdf

    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.4\n garbage")
    write_blank_pdf(corpus / "scanned.pdf")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 10)
    with (corpus / "huge.txt").open("wb") as fh:  # sparse: 51 MB that takes no disk
        fh.truncate(51 * 1024 * 1024)
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (corpus / "gbk.txt").write_bytes("槐荫区GBK文件：新建停车位900个。".encode("gbk"))
    (corpus / "utf16.txt").write_bytes("历城区UTF-16文件：新建绿道77公里。".encode("utf-16"))
    missing = tmp_path / "nowhere" / "gone.txt"

    report = service.ingest([corpus, missing], progress=False)

    failed = {Path(p).name: reason for p, reason in report.failed}
    assert set(failed) == {
        "empty.txt",
        "corrupt.pdf",
        "scanned.pdf",
        "binary.txt",
        "huge.txt",
        "gone.txt",
        "photo.jpg",
    }
    assert "empty" in failed["empty.txt"]
    assert "damaged" in failed["corrupt.pdf"]
    assert "no text, not even by OCR" in failed["scanned.pdf"]
    assert "binary" in failed["binary.txt"]
    assert "50 MB" in failed["huge.txt"]
    assert "no such file" in failed["gone.txt"]
    assert "damaged" in failed["photo.jpg"]
    added = {Path(p).name for p in report.added}
    assert added == {"notes.md", "page.html", "plan.txt", "gbk.txt", "utf16.txt"}
    assert "900个" in service.search("槐荫区停车位", k=1)[0].text
    assert "77公里" in service.search("历城区绿道", k=1)[0].text


def test_a_knowledge_base_can_turn_ocr_off_and_keeps_it_through_a_rebuild(
    service: RagService, corpus: Path
) -> None:
    from tests.ingest.loaders.scan_maker import write_scanned_pdf

    write_scanned_pdf(corpus / "scan.pdf")
    service.ingest([corpus / "plan.txt"], progress=False)
    service.set_kb_option(service.settings.kb, "ocr", False)
    assert service.kb_info().options == {"ocr": False}
    report = service.ingest(progress=False)
    assert [Path(p).name for p, _ in report.failed] == ["scan.pdf"]
    assert "OCR" in report.failed[0][1]
    assert sorted(Path(p).name for p in report.added) == ["notes.md", "page.html"]
    service.ingest(rebuild=True, progress=False)
    assert service.kb_info().options == {"ocr": False}
    with pytest.raises(KnowledgeBaseError, match="no option"):
        _kb(service).set_option("colour", True)


class WaitingEmbedder(HashingEmbedder):
    """Embeds the first file only once the second has started loading (or 10 s passed)."""

    def __init__(self, second_loading: threading.Event) -> None:
        super().__init__()
        self.second_loading = second_loading
        self.overlapped: list[bool] = []

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        self.overlapped.append(self.second_loading.wait(10))
        return super().embed_passages(texts)


def test_the_next_file_loads_while_this_one_is_embedded(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from rag.ingest import run

    second_loading = threading.Event()
    loaded: list[str] = []
    original = run.load_document

    def load(path, ocr=None):  # type: ignore[no-untyped-def]
        loaded.append(path.name)
        if len(loaded) == 2:
            second_loading.set()
        return original(path, ocr)

    monkeypatch.setattr(run, "load_document", load)
    embedder = WaitingEmbedder(second_loading)
    report = RagService(settings, embedder=embedder).ingest(progress=False)
    assert len(report.added) == 3 and not report.failed
    assert embedder.overlapped[0], "the first file was embedded before the next one loaded"
    assert report.added == sorted(report.added)  # committed in the order of the files


def test_embedding_progress_is_told_per_batch(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rag.service import RagService
    from tests.fakes.embedder import HashingEmbedder

    text = "\n\n".join(
        f"第{i}段：园区第{i}号仓库存放备用物资，编号W{i}，由专人管理。" for i in range(120)
    )
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    service = RagService(settings.model_copy(update={"embedding_batch_size": 4}), HashingEmbedder())
    told: list[tuple[int, int]] = []
    service.ingest([path], "progress", progress=False, embedded=lambda p, d, t: told.append((d, t)))
    total = told[-1][1]
    assert len(told) > 2 and [d for d, _ in told] == sorted(d for d, _ in told)
    assert told[-1][0] == total == service.documents("progress")[0].chunks


def test_a_revised_reader_reads_its_files_again(
    settings,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Upgrading a loader must reach knowledge bases built with the old one: the file's
    bytes did not change, but what is read from them did."""
    from rag.ingest import loaders

    service = RagService(settings, embedder=CountingEmbedder())
    service.ingest(progress=False)
    monkeypatch.setitem(loaders.READER_VERSIONS, ".html", 99)
    report = service.ingest(progress=False)
    assert [Path(p).name for p in report.updated] == ["page.html"]
    assert sorted(Path(p).name for p in report.unchanged) == ["notes.md", "plan.txt"]
    assert len(service.ingest(progress=False).unchanged) == 3  # and once only
