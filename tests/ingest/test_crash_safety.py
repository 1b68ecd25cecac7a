"""Kill an ingest with SIGKILL half-way: the index stays loadable and consistent, and
the next ingest finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.service import RagService
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase
from tests.fakes.embedder import HashingEmbedder

SLOW_INGEST = """
import sys, time
from pathlib import Path
from tests.fakes.embedder import HashingEmbedder
from rag.service import RagService
from rag.settings import Settings

class Slow(HashingEmbedder):
    def embed_passages(self, texts):
        time.sleep(0.3)
        return super().embed_passages(texts)

settings = Settings(index_dir=Path(sys.argv[1]), corpus_dir=Path(sys.argv[2]))
RagService(settings, embedder=Slow()).ingest(progress=False)
"""


@pytest.mark.parametrize("engine", ["faiss", "milvus"])
def test_sigkill_mid_ingest_leaves_a_consistent_index(tmp_path: Path, engine: str) -> None:
    """With Milvus (Lite, killed with its writer) the collection may lag the catalog
    after the kill, never hold what the catalog does not, and is level after the next
    ingest."""
    corpus = tmp_path / "many"
    corpus.mkdir()
    for n in range(40):
        (corpus / f"doc{n:02d}.txt").write_text(
            f"第{n}号文件:新建基站{n * 100}个。" * 5, encoding="utf-8"
        )
    index = tmp_path / "index"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_INGEST, str(index), str(corpus)],
        env={**os.environ, "PYTHONPATH": str(Path.cwd()), "RAG_VECTOR_STORE": engine},
    )
    catalog = index / "jinan" / "catalog.sqlite3"
    deadline = time.time() + 60
    settings = Settings(index_dir=index, corpus_dir=corpus, vector_store=engine)
    while time.time() < deadline:  # wait until some, not all, files are committed
        documents = KnowledgeBase.open(settings).catalog.documents() if catalog.exists() else []
        if 3 <= sum(d.complete for d in documents) < 40:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    kb = KnowledgeBase.open_existing(settings)
    done = sum(d.complete for d in kb.catalog.documents())  # one may be half-written
    assert 3 <= done < 40
    if engine == "faiss":
        snap = kb.snapshot()
        assert snap.vectors.ntotal == len(snap.chunk_ids) == kb.catalog.count_chunks()
    else:
        index_ = kb.search_index()
        held = index_.rows([*sorted(kb.catalog.chunk_ids()), 10**9])
        assert index_.size == len(held) <= kb.catalog.count_chunks()
    service = RagService(settings, embedder=HashingEmbedder())
    assert service.search("第1号文件 新建基站", k=3)

    report = service.ingest(progress=False)
    assert len(report.unchanged) == done and len(report.added) == 40 - done
    kb = KnowledgeBase.open_existing(settings)
    assert len(kb.catalog.documents()) == 40 and all(d.complete for d in kb.catalog.documents())
    assert kb.search_index().size == kb.catalog.count_chunks()
    if engine == "faiss":
        assert kb.snapshot().vectors.ntotal == kb.catalog.count_chunks()


RESUMABLE_INGEST = """
import sys, time
from pathlib import Path
from tests.fakes.embedder import HashingEmbedder
from rag.service import RagService
from rag.settings import Settings

class Slow(HashingEmbedder):
    def embed_passages(self, texts):
        time.sleep(0.2)
        return super().embed_passages(texts)

settings = Settings(
    index_dir=Path(sys.argv[1]), corpus_dir=Path(sys.argv[2]), ingest_commit_chunks=10
)
RagService(settings, embedder=Slow()).ingest(progress=False)
"""


def test_a_big_file_killed_mid_way_keeps_its_batches_and_resumes(tmp_path: Path) -> None:
    corpus = tmp_path / "big"
    corpus.mkdir()
    text = "\n\n".join(f"第{n}段：示范区第{n}批项目新建基站{n * 7}个。" * 6 for n in range(120))
    (corpus / "big.txt").write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    settings = Settings(index_dir=index, corpus_dir=corpus, ingest_commit_chunks=10)
    proc = subprocess.Popen(
        [sys.executable, "-c", RESUMABLE_INGEST, str(index), str(corpus)],
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    catalog = index / "jinan" / "catalog.sqlite3"
    deadline = time.time() + 60
    while time.time() < deadline:  # wait for a few committed batches
        if catalog.exists() and KnowledgeBase.open(settings).catalog.count_chunks() >= 30:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    kept = KnowledgeBase.open_existing(settings).catalog.count_chunks()
    assert kept >= 30 and kept % 10 == 0  # whole batches, nothing torn
    (document,) = KnowledgeBase.open_existing(settings).catalog.documents()
    assert not document.complete
    service = RagService(settings, embedder=HashingEmbedder())
    report = service.ingest(progress=False)
    kb = KnowledgeBase.open_existing(settings)
    total = kb.catalog.count_chunks()
    assert report.chunks_embedded == total - kept  # resumed, not started over
    assert kb.catalog.documents()[0].complete
    assert service.ingest(progress=False).unchanged == [str((corpus / "big.txt").resolve())]
