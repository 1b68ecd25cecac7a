"""Hybrid retrieval: dense (FAISS) and BM25 (jieba) rankings fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from rag.embeddings.base import Embedder
from rag.keyword_index import tokenize
from rag.knowledge_base import KnowledgeBase
from rag.schema import SearchHit

MAX_QUERY_CHARS = 2000  # e5 reads 512 tokens at most; longer queries only cost time


class EmptyQueryError(ValueError):
    pass


@dataclass(frozen=True)
class FusionWeights:
    rrf_k: int = 10
    dense: float = 1.0
    bm25: float = 2.0
    candidates: int = 40


def printable(text: str) -> str:
    """Control characters become spaces; the ends are stripped."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def clean_query(query: str) -> str:
    text = printable(query)
    if not text:
        raise EmptyQueryError("the question is empty: type a question about your documents")
    return text[:MAX_QUERY_CHARS]


def reciprocal_rank_fusion(
    rankings: list[tuple[list[int], float]], rrf_k: int
) -> list[tuple[int, float]]:
    """rankings: (ids best first, weight). Returns (id, fused score), best first."""
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class HybridRetriever:
    def __init__(self, kb: KnowledgeBase, embedder: Embedder, weights: FusionWeights | None = None):
        kb.check_embedder(embedder)
        self.kb = kb
        self.embedder = embedder
        self.weights = weights or FusionWeights()

    def search(self, query: str, k: int = 5) -> list[SearchHit]:
        query = clean_query(query)
        snap = self.kb.snapshot()
        if not snap.chunk_ids:
            return []
        n = min(max(self.weights.candidates, k), len(snap.chunk_ids))
        vector = self.embedder.embed_query(query).reshape(1, -1)
        _, dense_pos = snap.vectors.search(vector, n)
        dense = [snap.chunk_ids[p] for p in dense_pos[0] if p >= 0]
        bm25 = [snap.chunk_ids[p] for p, _ in snap.keywords.search(tokenize(query), n)]
        fused = reciprocal_rank_fusion(
            [(dense, self.weights.dense), (bm25, self.weights.bm25)], self.weights.rrf_k
        )[:k]
        rows = self.kb.catalog.chunk_rows([cid for cid, _ in fused])
        dense_rank = {cid: r for r, cid in enumerate(dense, start=1)}
        bm25_rank = {cid: r for r, cid in enumerate(bm25, start=1)}
        hits: list[SearchHit] = []
        for cid, score in fused:
            row = rows.get(cid)
            if row is None:  # removed by an ingest since the snapshot was read
                continue
            hits.append(
                SearchHit(
                    rank=len(hits) + 1,
                    score=round(score, 6),
                    source=row.source,
                    section=row.section,
                    start=row.start,
                    end=row.end,
                    text=row.text,
                    chunk_id=cid,
                    dense_rank=dense_rank.get(cid),
                    bm25_rank=bm25_rank.get(cid),
                    context=row.context,
                )
            )
        return hits
