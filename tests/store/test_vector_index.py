"""The dense index: exact up to a size, an inverted file above it."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from rag.service import RagService
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase
from rag.store.vector_index import IndexChoice, build_index, read_snapshot, write_snapshot
from tests.fakes.embedder import HashingEmbedder


def unit_vectors(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Around 40 topics, as texts' embeddings gather (uniform noise has no neighbours
    worth the name, and no index finds them)."""
    rng = np.random.default_rng(seed)
    topics = np.random.default_rng(42).standard_normal((40, dim))
    v = topics[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, dim))
    v = v.astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_up_to_the_threshold_then_an_ivf_that_finds_the_same(tmp_path: Path) -> None:
    vectors, queries = unit_vectors(4000), unit_vectors(50, seed=1)
    exact = build_index(vectors, 64, IndexChoice(exact_up_to=4000))
    assert isinstance(exact, faiss.IndexFlatIP)
    ivf = build_index(vectors, 64, IndexChoice(exact_up_to=3999, nprobe=64))
    assert isinstance(ivf, faiss.IndexIVFFlat) and ivf.nlist == int(4 * 4000**0.5)
    _, truth = exact.search(queries, 10)
    _, found = ivf.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95
    write_snapshot(ivf, tmp_path, 7)
    again = read_snapshot(tmp_path, 7, 4000)
    assert again is not None and faiss.extract_index_ivf(again).nprobe == 64  # kept on disk


def test_a_knowledge_base_past_the_threshold_still_finds_its_passages(settings: Settings) -> None:
    small = settings.model_copy(update={"vector_index_exact_up_to": 2, "vector_index_nprobe": 4})
    service = RagService(small, embedder=HashingEmbedder())
    service.ingest(progress=False)
    snapshot = KnowledgeBase.open_existing(small).snapshot()
    assert isinstance(snapshot.vectors, faiss.IndexIVFFlat)
    assert service.search("示范区新建多少个5G基站？", 3)[0].source == "plan.txt"
