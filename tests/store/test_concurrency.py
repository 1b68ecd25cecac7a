"""Concurrency: searches while an ingest runs see one consistent generation of the index,
and two ingests into one knowledge base at once (processes or threads) leave it whole.

Real files, real SQLite and FAISS, the model-free HashingEmbedder slowed down so that
the ingests overlap; the loops poll until a process ends, nothing asserts on a sleep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import load_document
from rag.ingest.run import IngestReport
from rag.service import RagService
from rag.settings import PROJECT_ROOT, Settings
from rag.store.catalog import SnapshotRows
from rag.store.keyword_index import KeywordIndex
from rag.store.knowledge_base import KnowledgeBase, Snapshot
from rag.store.vector_index import build_index, read_snapshot
from rag.text.tokens import tokenize
from tests.fakes.embedder import HashingEmbedder

N_FILES = 40
TOPICS = ["地铁", "医院", "学校", "公园", "水厂", "电网", "港口", "图书馆"]

# argv: index_dir, seconds per embedding call, ready file, go file ("-": no barrier), files
INGEST = """
import json, sys, time
from pathlib import Path
from tests.fakes.embedder import HashingEmbedder
from rag.text.tokens import tokenize
from rag.service import RagService
from rag.settings import Settings

index, delay, ready, go = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]

class Slow(HashingEmbedder):
    def embed_passages(self, texts):
        time.sleep(delay)
        return super().embed_passages(texts)

tokenize("预热")  # load jieba before the barrier, so both ingests start together
if go != "-":
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.01)
report = RagService(Settings(index_dir=index), embedder=Slow()).ingest(
    [Path(p) for p in sys.argv[5:]], progress=False
)
print(json.dumps({"added": report.added, "unchanged": report.unchanged, "failed": report.failed}))
"""


# ---------------------------------------------------------------------------- helpers


# 120 distinct characters that the rest of the generated text never uses
_RARE = (
    "天玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余岁律吕调阳云腾致雨露结霜金生丽"
    "玉昆冈剑巨阙珠称夜光果珍李柰菜重芥姜海咸河淡鳞潜羽翔龙师火帝鸟官皇始制字乃服衣裳"
    "推位让有虞陶唐吊伐罪周发殷汤坐朝问道垂拱平章爱育黎首臣伏戎羌遐迩壹体率宾归鸣凤竹"
)


def _code(n: int) -> str:
    """A three-character name only file n contains."""
    return _RARE[3 * n : 3 * n + 3]


def _doc_text(n: int) -> str:
    """About 500 characters (two or three chunks) with one phrase no other file has.
    No trailing blanks, so the loaded text is the file's text character for character."""
    topic = TOPICS[n % len(TOPICS)]
    lines = [f"第{n}号文件：{topic}建设情况通报"]
    for i in range(14):
        lines.append(
            f"{topic}项目第{i + 1}期完成投资{(n + 2) * (i + 3)}万元，惠及{n * 10 + i}户居民。"
        )
        if i == 6:
            # said three times, so the bigram-hashing embedder ranks it first as well
            code = _code(n)
            lines.append(f"本文件的专用编号是{code}，{code}，{code}，请勿外传。")
    return "\n".join(lines)


def _write_corpus(folder: Path) -> list[Path]:
    folder.mkdir()
    files = []
    for n in range(N_FILES):
        path = folder / f"doc{n:02d}.txt"
        path.write_text(_doc_text(n), encoding="utf-8")
        files.append(path.resolve())
    return files


def _start_ingest(
    index: Path, files: list[Path], delay: float, barrier: tuple[Path, Path] | None = None
) -> subprocess.Popen[str]:
    ready, go = barrier or ("-", "-")
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(index), str(delay), str(ready), str(go)]
        + [str(f) for f in files],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, what: str, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _poll(condition, timeout: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    """Wait a little for something that usually happens soon; go on either way."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def _warm_up() -> None:
    """Load jieba, FAISS and bm25s now, so that the first timed search is not seconds."""
    KeywordIndex([tokenize("预热")]).search(["预热"], 1)
    build_index(np.zeros((0, 4), np.float32), 4)


def _assert_snapshot_consistent(kb: KnowledgeBase, snap: Snapshot) -> None:
    """The snapshot is exactly generation g: the chunks of the first g documents (this
    ingest only adds files, one generation each), FAISS row i being chunk_ids[i]."""
    assert snap.vectors.ntotal == len(snap.chunk_ids)
    with kb.catalog.connect() as db:
        rows = db.execute("SELECT id, doc_id, vector FROM chunks ORDER BY id").fetchall()
    first_docs = sorted({doc for _, doc, _ in rows})[: snap.generation]
    assert snap.chunk_ids == [cid for cid, doc, _ in rows if doc in first_docs]
    if snap.chunk_ids:
        stored = {cid: vec for cid, _, vec in rows}
        expected = np.vstack([np.frombuffer(stored[cid], np.float32) for cid in snap.chunk_ids])
        np.testing.assert_array_equal(snap.vectors.reconstruct_n(0, snap.vectors.ntotal), expected)


def _assert_hit_is_real(kb: KnowledgeBase, hit, snap: Snapshot) -> None:  # type: ignore[no-untyped-def]
    assert hit.chunk_id in snap.chunk_ids
    row = kb.catalog.chunk_rows([hit.chunk_id])[hit.chunk_id]
    on_disk = Path(row.path).read_text(encoding="utf-8")
    assert hit.source == row.source == Path(row.path).name
    assert hit.text == row.text == on_disk[row.start : row.end]
    assert hit.text and hit.text in on_disk


def _expected_chunks(files: list[Path], settings: Settings) -> int:
    return sum(
        len(chunk_document(load_document(f).text, settings.chunk_size, settings.chunk_overlap))
        for f in files
    )


def _assert_whole(settings: Settings, files: list[Path]) -> None:
    """The state finished ingests must leave, read back from disk by a fresh
    KnowledgeBase: each file once, its chunks once, a current FAISS file, no leftovers."""
    kb = KnowledgeBase.open_existing(settings)
    docs = kb.catalog.documents()
    assert sorted(d.path for d in docs) == sorted(str(f) for f in files)
    chunks = kb.catalog.count_chunks()
    assert chunks == sum(d.chunks for d in docs) == _expected_chunks(files, settings)
    snap = kb.snapshot()
    assert snap.vectors.ntotal == len(snap.chunk_ids) == chunks
    # The FAISS file on disk is the current generation, not a lagging one rebuilt in
    # memory on every load; the temp file it was written through is gone.
    generation = kb.catalog.generation()
    names = sorted(p.name for p in kb.directory.iterdir())
    assert [n for n in names if n.startswith("vectors-")] == [f"vectors-{generation}.faiss"]
    assert read_snapshot(kb.directory, generation, chunks) is not None
    assert not [n for n in names if "tmp" in n], names
    assert set(names) <= {
        "catalog.sqlite3",
        "catalog.sqlite3-wal",
        "catalog.sqlite3-shm",
        "write.lock",
        f"vectors-{generation}.faiss",
    }
    assert sorted(p.name for p in settings.index_dir.iterdir()) == [settings.kb]
    service = RagService(settings, embedder=HashingEmbedder())
    for f in (files[0], files[len(files) // 2], files[-1]):
        n = int(f.stem.removeprefix("doc"))
        assert service.search(f"专用编号{_code(n)}")[0].source == f.name


def _halves(files: list[Path]) -> tuple[list[list[Path]], Path]:
    """Two halves of the files, both starting with the same shared file: two ingests
    running side by side would both find it missing and both embed it."""
    shared = files[N_FILES // 2]
    return [[shared, *files[: N_FILES // 2]], [shared, *files[N_FILES // 2 + 1 :]]], shared


def _assert_one_ingest_saw_the_other(reports: list[dict], shared: Path) -> None:
    """The file both were given is added by one and found unchanged by the other: the
    second ingest ran after the first had committed it, not beside it."""
    added = [str(shared) in r["added"] for r in reports]
    unchanged = [r["unchanged"] for r in reports]
    assert sorted(added) == [False, True], "both ingests embedded the shared file"
    assert unchanged[added.index(False)] == [str(shared)]
    assert unchanged[added.index(True)] == []
    assert all(not r["failed"] for r in reports)


# ---------------------------------------------------------------------------- tests


def test_searches_during_an_ingest_see_consistent_growing_snapshots(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _write_corpus(tmp_path / "many")
    ready, go = tmp_path / "ready", tmp_path / "go"
    proc = _start_ingest(settings.index_dir, files, 0.05, (ready, go))
    _warm_up()  # while the ingest process starts up too
    _wait_for(lambda: ready.exists() or proc.poll() is not None, "the ingest to start")
    go.touch()
    catalog = settings.kb_dir() / "catalog.sqlite3"
    _wait_for(lambda: catalog.exists() or proc.poll() is not None, "the catalog")
    assert proc.poll() is None, "the ingest ended before any search could run"

    service = RagService(settings, embedder=HashingEmbedder())
    kb = service.retriever().kb
    used: list[Snapshot] = []  # the snapshot each search really read
    load = kb.snapshot
    monkeypatch.setattr(kb, "snapshot", lambda: used.append(load()) or used[-1])
    read_rows = kb.catalog.snapshot_rows

    def read_rows_then_let_the_ingest_commit(with_vectors: bool) -> SnapshotRows:
        # Widen the race: the catalog moves on after every read a search makes, so a
        # snapshot pieced together from two reads would mix two generations.
        rows = read_rows(with_vectors)
        _poll(lambda: proc.poll() is not None or kb.catalog.generation() != rows.generation)
        return rows

    monkeypatch.setattr(kb.catalog, "snapshot_rows", read_rows_then_let_the_ingest_commit)

    during: list[int] = []  # snapshot sizes of searches that began and ended mid-ingest
    sizes: list[int] = []
    generations: list[int] = []
    n = 0
    while True:
        running = proc.poll() is None
        hits = service.search(f"专用编号{_code(n % N_FILES)}", k=5)
        snap = used[-1]
        _assert_snapshot_consistent(kb, snap)
        for hit in hits:
            _assert_hit_is_real(kb, hit, snap)
        sizes.append(len(snap.chunk_ids))
        generations.append(snap.generation)
        if running and proc.poll() is None:
            during.append(len(snap.chunk_ids))
        n += 1
        if not running:  # one last round after the ingest ended, then stop
            break
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    _assert_whole(settings, files)

    final = KnowledgeBase.open_existing(settings).catalog.count_chunks()
    assert sizes[-1] == final
    assert generations == sorted(generations), "a search went back to an older generation"
    assert sizes == sorted(sizes)
    assert len(during) >= 5, f"only {len(during)} searches ran during the ingest"
    intermediate = {s for s in during if 0 < s < final}
    assert len(intermediate) >= 3, f"saw no intermediate generations: {sorted(set(during))}"


def test_two_processes_ingesting_into_one_kb_at_once(tmp_path: Path, settings: Settings) -> None:
    files = _write_corpus(tmp_path / "many")
    halves, shared = _halves(files)
    go = tmp_path / "go"
    ready = [tmp_path / "ready-0", tmp_path / "ready-1"]
    procs = [
        _start_ingest(settings.index_dir, half, 0.03, (r, go))
        for half, r in zip(halves, ready, strict=True)
    ]
    _wait_for(lambda: all(r.exists() for r in ready), "both ingests to be ready")
    go.touch()
    outputs = [p.communicate(timeout=60) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err

    _assert_one_ingest_saw_the_other([json.loads(out) for out, _ in outputs], shared)
    waited = ["Waiting for another ingest" in err for _, err in outputs]
    assert sorted(waited) == [False, True], "the two ingests did not overlap"
    _assert_whole(settings, files)


class _OverlapSpy(HashingEmbedder):
    """Slow, and counts how many ingests are embedding at the same moment."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.active = 0
        self.most_active = 0

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(0.02)
            return super().embed_passages(texts)
        finally:
            with self._lock:
                self.active -= 1


def test_two_threads_ingesting_into_one_kb_at_once(tmp_path: Path, settings: Settings) -> None:
    # flock belongs to the open file description, and write_lock opens the lock file
    # anew each time, so two threads of one process exclude each other too (a POSIX
    # fcntl/lockf lock is per process and would let both in).
    files = _write_corpus(tmp_path / "many")
    halves, shared = _halves(files)
    spy = _OverlapSpy()
    service = RagService(settings, embedder=spy)
    start = threading.Barrier(2)
    reports: list[IngestReport | None] = [None, None]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            reports[i] = service.ingest(halves[i], progress=False)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert all(r is not None for r in reports), "an ingest thread did not finish"
    assert spy.most_active == 1, "the two ingests embedded at the same time"
    _assert_one_ingest_saw_the_other(
        [{"added": r.added, "unchanged": r.unchanged, "failed": r.failed} for r in reports if r],
        shared,
    )
    _assert_whole(settings, files)


def test_ingests_starting_together_on_a_new_kb_all_open_its_catalog(
    settings: Settings,
) -> None:
    # Regression: the first connections to a brand-new catalog race to switch it to
    # WAL, and SQLite fails the loser with "database is locked" without waiting. Two
    # ingests started together hit it now and then; many rounds of four openers at once
    # hit it nearly every run.
    errors: list[BaseException] = []

    def open_kb(name: str, start: threading.Barrier) -> None:
        try:
            start.wait()
            KnowledgeBase.open(settings, name).catalog.generation()
        except BaseException as exc:
            errors.append(exc)

    for round_ in range(100):
        start = threading.Barrier(4)
        threads = [
            threading.Thread(target=open_kb, args=(f"new-{round_}", start)) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[:3]


def test_a_running_server_sees_a_rebuild_even_at_the_same_generation(tmp_path: Path) -> None:
    """`rag ingest --rebuild` in another process swaps in a catalog whose generations
    start again; a long-running reader must not keep serving the old snapshot."""
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, word in ((old, "旧文件"), (new, "新文件")):
        folder.mkdir()
        for n in range(3):
            (folder / f"{n}.txt").write_text(f"{word}第{n}号：建设公园{n}个。", encoding="utf-8")
    index = tmp_path / "index"
    server = RagService(Settings(index_dir=index, corpus_dir=old), embedder=HashingEmbedder())
    server.ingest(progress=False)
    assert "旧文件" in server.search("公园", 1)[0].text
    # the new third file has more chunks: the stale snapshot would not know them
    filler = "".join(f"第{i}段：推进城市更新，完善道路和管网。" for i in range(40))
    (new / "2.txt").write_text(f"新文件第2号：{filler}\n\n湿地保护：新增湿地公园8处。", "utf-8")
    cli = RagService(Settings(index_dir=index, corpus_dir=new), embedder=HashingEmbedder())
    cli.ingest(rebuild=True, progress=False)
    [hit] = server.search("湿地保护", 1)
    assert "湿地公园8处" in hit.text
    kb = server.retriever().kb
    assert len(kb.snapshot().chunk_ids) == kb.catalog.count_chunks() > 3
