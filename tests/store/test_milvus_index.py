"""The Milvus engine (a real Milvus Lite file) passes what the FAISS engine passes: add,
update, remove, search by vector and by keyword, citation fields, counts; and a
knowledge base moves between the two without embedding anything again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.errors import KnowledgeBaseError
from rag.service import RagService
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase
from rag.store.milvus_index import MilvusStore, collection_name
from rag.text.tokens import tokenize
from tests.fakes.embedder import HashingEmbedder

QUESTION = "示范区新建多少个5G基站？"


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.passages = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return super().embed_passages(texts)


@pytest.fixture(params=["faiss", "milvus"])
def engine_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return settings.model_copy(update={"vector_store": request.param})


def test_each_engine_adds_updates_and_removes_documents(
    engine_settings: Settings, corpus: Path
) -> None:
    service = RagService(engine_settings, embedder=HashingEmbedder())
    service.ingest(progress=False)
    hits = service.search(QUESTION, 3)
    assert hits[0].source == "plan.txt" and "5G" in hits[0].text
    assert hits[0].section and hits[0].end > hits[0].start

    (corpus / "plan.txt").write_text("示范区将新建锂电池回收站八十座。", encoding="utf-8")
    service.ingest(progress=False)
    top = service.search("锂电池回收站", 3)[0]
    assert top.source == "plan.txt" and "锂电池" in top.text
    assert all("5G基站" not in h.text for h in service.search(QUESTION, 10))

    service.remove(corpus / "plan.txt")
    assert all(h.source != "plan.txt" for h in service.search("锂电池回收站", 10))


def test_milvus_answers_as_faiss_does(settings: Settings) -> None:
    """Same vectors, same passages: the dense ranking is the same; the keyword ranking
    and the word statistics the fusion weighs by agree; each hit's citation fields are
    the catalog's."""
    faiss_service = RagService(settings, embedder=HashingEmbedder())
    faiss_service.ingest(progress=False)
    kb = KnowledgeBase.open_existing(settings)
    milvus_settings = settings.model_copy(update={"vector_store": "milvus"})
    faiss_service.migrate_kb(settings.kb, "milvus")
    snapshot = kb.search_index()
    milvus = KnowledgeBase.open_existing(milvus_settings).search_index()

    assert milvus.size == snapshot.size == kb.catalog.count_chunks()
    vector = HashingEmbedder().embed_query(QUESTION)
    assert milvus.dense(vector, 5) == snapshot.dense(vector, 5)
    tokens = tokenize(QUESTION)
    for question in (QUESTION, "算力中心 数字经济", "page notes"):
        words = tokenize(question)
        assert milvus.keyword(words, 5) == snapshot.keyword(words, 5), question
    assert milvus.keyword(["不存在的词语"], 5) == snapshot.keyword(["不存在的词语"], 5) == []
    assert milvus.coverage(tokens) == pytest.approx(snapshot.coverage(tokens))
    assert milvus.rarity("基站") == pytest.approx(snapshot.rarity("基站"))
    assert snapshot.rarity("基站") < 1
    assert milvus.rarity("不存在的词语") == snapshot.rarity("不存在的词语") == 1
    assert milvus.han_share == pytest.approx(snapshot.han_share or 0)
    ids = snapshot.dense(vector, 5)
    assert milvus.rows(ids) == kb.catalog.chunk_rows(ids)

    milvus_hits = RagService(milvus_settings, embedder=HashingEmbedder()).search(QUESTION, 5)
    faiss_hits = faiss_service.search(QUESTION, 5)
    assert [h.chunk_id for h in milvus_hits][:1] == [h.chunk_id for h in faiss_hits][:1]


def test_moving_to_milvus_embeds_nothing_and_copies_only_changes(settings: Settings) -> None:
    embedder = CountingEmbedder()
    service = RagService(settings, embedder=embedder)
    service.ingest(progress=False)
    embedded = embedder.passages
    chunks = KnowledgeBase.open_existing(settings).catalog.count_chunks()

    assert service.migrate_kb(settings.kb, "milvus") == chunks
    assert embedder.passages == embedded
    assert service.migrate_kb(settings.kb, "milvus") == 0  # level already

    milvus_settings = settings.model_copy(update={"vector_store": "milvus"})
    milvus_service = RagService(milvus_settings, embedder=embedder)
    milvus_service.remove(settings.corpus_dir / "notes.md")
    kb = KnowledgeBase.open_existing(milvus_settings)
    milvus = kb.search_index()
    assert milvus.size == kb.catalog.count_chunks() < chunks
    # the word counts followed the removal: each word's count is the catalog's again
    snapshot = kb.snapshot()
    words = {w for toks in kb.catalog.snapshot_rows(with_vectors=False).tokens for w in toks}
    notes_words = set(tokenize((settings.corpus_dir / "notes.md").read_text(encoding="utf-8")))
    for word in sorted(words | notes_words)[:200]:
        assert milvus.df(word) == snapshot.keywords.df(word), word


def test_a_rebuild_and_a_removal_reach_the_collection(settings: Settings) -> None:
    milvus_settings = settings.model_copy(update={"vector_store": "milvus"})
    service = RagService(milvus_settings, embedder=HashingEmbedder())
    service.ingest(progress=False)
    service.ingest(rebuild=True, progress=False)  # a new catalog, ids from 1 again
    kb = KnowledgeBase.open_existing(milvus_settings)
    assert kb.search_index().size == kb.catalog.count_chunks()
    assert service.search(QUESTION, 1)[0].source == "plan.txt"

    store = kb.milvus
    assert store is not None and store.client.has_collection(collection_name(kb.name))
    service.delete_kb(kb.name)
    assert not store.client.has_collection(collection_name(kb.name))


def test_names_and_missing_collections(settings: Settings, tmp_path: Path) -> None:
    assert collection_name("a-b") != collection_name("a_b")
    RagService(settings, embedder=HashingEmbedder()).ingest(progress=False)
    elsewhere = settings.model_copy(
        update={"vector_store": "milvus", "milvus_uri": str(tmp_path / "other.db")}
    )
    # a FAISS knowledge base searched with Milvus is copied there on first use
    assert RagService(elsewhere, embedder=HashingEmbedder()).search(QUESTION, 1)
    assert MilvusStore(str(tmp_path / "other.db")).knowledge_bases() == [settings.kb]
    nowhere = elsewhere.model_copy(
        update={"index_dir": tmp_path / "empty", "milvus_uri": str(tmp_path / "third.db")}
    )
    with pytest.raises(KnowledgeBaseError, match="does not exist yet"):
        RagService(nowhere, embedder=HashingEmbedder()).search(QUESTION, 1)
    with pytest.raises(KnowledgeBaseError, match="cannot open Milvus"):
        _ = MilvusStore(str(tmp_path / "no-such-dir" / "x.db")).client


def test_another_process_with_no_index_folder_searches_the_same_milvus(
    settings: Settings, tmp_path: Path
) -> None:
    """Several servers answer from one Milvus: a reader with an empty index folder finds
    the knowledge base, checks its model and gets the same hits; it may not empty the
    collection by ingesting from a folder of its own."""
    uri = str(tmp_path / "shared.db")
    writer = settings.model_copy(update={"vector_store": "milvus", "milvus_uri": uri})
    RagService(writer, embedder=HashingEmbedder()).ingest(progress=False)
    expected = RagService(writer, embedder=HashingEmbedder()).search(QUESTION, 5)

    reader = writer.model_copy(update={"index_dir": tmp_path / "empty-index"})
    service = RagService(reader, embedder=HashingEmbedder())
    assert service.knowledge_bases() == [writer.kb]
    assert service.search(QUESTION, 5) == expected

    with pytest.raises(KnowledgeBaseError, match="built with the embedding model"):

        class Other(HashingEmbedder):
            model_id = "test:other"

        RagService(reader, embedder=Other()).search(QUESTION, 5)
    with pytest.raises(KnowledgeBaseError, match="filled from another index folder"):
        service.ingest([settings.corpus_dir / "notes.md"], progress=False)
    assert RagService(writer, embedder=HashingEmbedder()).search(QUESTION, 5) == expected


@pytest.mark.real_model
def test_a_second_process_with_an_empty_folder_answers_with_the_same_citations(
    settings: Settings, tmp_path: Path
) -> None:
    """The real thing, as two machines would run it: `rag ingest` into Milvus Lite, then
    `rag ask` from a process whose index folder is empty, with the bundled models; the
    same citations as asked where it was built (one after the other: Milvus Lite lets
    one process at a time open its file)."""
    rag = str(Path(sys.executable).parent / "rag")
    env = {
        **os.environ,
        "RAG_VECTOR_STORE": "milvus",
        "RAG_MILVUS_URI": str(tmp_path / "shared.db"),
        "RAG_INDEX_DIR": str(settings.index_dir),
    }
    ingest = subprocess.run(
        [rag, "ingest", str(settings.corpus_dir)], env=env, capture_output=True, text=True
    )
    assert ingest.returncode == 0, ingest.stderr

    def ask(index_dir: Path) -> dict[str, Any]:
        run = subprocess.run(
            [rag, "ask", QUESTION, "--json"],
            env={**env, "RAG_INDEX_DIR": str(index_dir)},
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        return dict(json.loads(run.stdout))

    here = ask(settings.index_dir)
    elsewhere = ask(tmp_path / "empty-index")
    assert not here["refused"] and "6000" in here["answer"]
    assert elsewhere["citations"] == here["citations"] and elsewhere["citations"]
    assert elsewhere["answer"] == here["answer"]
    assert not any((tmp_path / "empty-index").glob("*/*.faiss"))
