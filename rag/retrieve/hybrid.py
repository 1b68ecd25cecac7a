"""Hybrid retrieval: dense (FAISS) and BM25 (jieba) rankings fused by reciprocal rank."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.errors import EmptyQueryError
from rag.models.embeddings.base import Embedder
from rag.retrieve.translate import Translator, other_language
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase
from rag.store.search_index import SearchIndex
from rag.text.normal import printable
from rag.text.tokens import tokenize
from rag.types import SearchHit

MAX_QUERY_CHARS = 2000  # e5 reads 512 tokens at most; longer queries only cost time


@dataclass(frozen=True)
class FusionWeights:
    rrf_k: int
    dense: float
    bm25: float
    candidates: int  # per retriever, before fusion

    @classmethod
    def from_settings(cls, s: Settings) -> FusionWeights:
        return cls(s.rrf_k, s.dense_weight, s.bm25_weight, s.candidates)


def clean_query(query: str) -> str:
    text = printable(query)
    if not text:
        raise EmptyQueryError(
            "问题是空的：请输入一个关于文档的问题。",
            "The question is empty: type a question about your documents.",
        )
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


_CLAUSE_BREAK = re.compile(r"[，,；;？?]")
# "X和Y" with at least two characters on each side, within one clause
_CONJUNCTION = re.compile(r"(?<=\S{2})(?:以及|和|与)(?=\S{2})")
# ...that asks about each side: "分别是多少", "各占多少", "相比哪个更大", "是否相同"
_EACH_SIDE = re.compile(r"分别|各|相比|哪个|相同|一样")


def conjunct_queries(question: str) -> list[str]:
    """For a clause "X和Y分别…", the question once with only X and once with only Y.

    "数字经济占GDP比重的目标,2023年政府工作报告和工业强市三年行动计划分别定为多少?"
    asks two documents; the whole question ranks one of them first, and the other's
    passage can fall out of the top 5. Each half is a query that finds its own side.
    A clause without "分别" and the like is left whole: in "借助哪家企业的技术和产业优势"
    the halves are not questions, and searching them cost an answer on the eval set.
    """
    clauses = [c for c in _CLAUSE_BREAK.split(question) if c.strip()]
    out = []
    for i, clause in enumerate(clauses):
        m = _CONJUNCTION.search(clause)
        if m is None or not _EACH_SIDE.search(clause):
            continue
        rest = clauses[:i] + clauses[i + 1 :]
        out += ["，".join([*rest, clause[: m.start()]]), "，".join([*rest, clause[m.end() :]])]
    return out


def bm25_trust(coverage: float) -> float:
    """How far BM25's ranking speaks for a query whose idf mass the corpus holds to this
    share (`KeywordIndex.coverage`). A question always has words of its own that the
    text says otherwise (paraphrase: the bundled set's questions hold 0.32-1 of theirs),
    so from a third of its mass on BM25 has its full say; below, its ranks come from the
    question's minor words and would bury the dense ranker's finds (Chinese questions
    over English pages hold 0-0.3). benchmarks/fusion_by_coverage.py measured this
    against other curves on two corpora: the bundled set unchanged, the cross-language
    set's MRR 0.625 -> 0.669; trusting BM25 in proportion to coverage gained more there
    (hit@5 0.839 -> 0.903) but lost on the bundled set (0.971 -> 0.957)."""
    return min(1.0, coverage / 0.3)


LEAD = 3  # hits of the whole question kept ahead of the halves' best


@dataclass(frozen=True)
class _Ranking:
    fused: list[tuple[int, float]]  # (chunk id, fused score), best first
    dense_rank: dict[int, int]
    bm25_rank: dict[int, int]


class HybridRetriever:
    def __init__(
        self,
        kb: KnowledgeBase,
        embedder: Embedder,
        weights: FusionWeights,
        translate: Translator | None = None,
    ):
        """`translate` puts a question into another language (see translate.py); without
        it a question is searched only as asked."""
        kb.check_embedder(embedder)
        self.kb = kb
        self.embedder = embedder
        self.weights = weights
        self.translate = translate

    def search(self, query: str, k: int = 5) -> list[SearchHit]:
        """The k best chunks. A question joining two things ("X和Y分别…") keeps the whole
        question's first LEAD hits, then each half's best hit not yet in, then the rest."""
        query = clean_query(query)
        snap = self.kb.search_index()
        if not snap.size:
            return []
        n = min(max(self.weights.candidates, k), snap.size)
        ranked = self._rank_in_both_languages(snap, query, n)
        fused = ranked.fused
        halves = conjunct_queries(query)
        if halves:
            order = [cid for cid, _ in fused[:LEAD]]
            for half in halves:
                best = next((c for c, _ in self._rank(snap, half, n).fused if c not in order), None)
                if best is not None:
                    order.append(best)
            order += [cid for cid, _ in fused if cid not in order]
            score = dict(fused)
            fused = [(cid, score.get(cid, 0.0)) for cid in order]
        return self._hits(snap, fused[:k], ranked)

    def translation(self, query: str, snap: SearchIndex | None = None) -> str:
        """The query in the knowledge base's other language when it holds enough text in
        it (and a translator is set), else "" (translations are remembered by it)."""
        snap = snap or self.kb.search_index()
        language = other_language(query, snap.han_share)
        translated = self.translate(query, language) if self.translate and language else ""
        return "" if translated == query else translated

    def _rank_in_both_languages(self, snap: SearchIndex, query: str, n: int) -> _Ranking:
        """The query's ranking; when the knowledge base holds enough text in the other
        language, its translation's dense and BM25 rankings join the same fusion, each
        BM25 ranking weighed by how much of its query the corpus holds. (Fusing each
        language's ranking first and then the two with equal say gave a Chinese
        question's BM25, which English pages cannot match, half the say:
        benchmarks/fusion_methods.py, cross-language set hit@5 0.839 -> 0.871, MRR
        0.669 -> 0.753; the bundled set is never translated.)"""
        translated = self.translation(query, snap)
        if not translated:
            return self._rank(snap, query, n)
        rankings: list[tuple[list[int], float]] = []
        dense_rank: dict[int, int] = {}
        bm25_rank: dict[int, int] = {}
        for q in (query, translated):
            dense, bm25_ids, bm25_weight = self._rankers(snap, q, n)
            rankings += [(dense, self.weights.dense), (bm25_ids, bm25_weight)]
            for r, cid in enumerate(dense, start=1):
                dense_rank.setdefault(cid, r)
            for r, cid in enumerate(bm25_ids, start=1):
                bm25_rank.setdefault(cid, r)
        fused = reciprocal_rank_fusion(rankings, self.weights.rrf_k)
        return _Ranking(fused[:n], dense_rank, bm25_rank)

    def _rank(self, snap: SearchIndex, query: str, n: int) -> _Ranking:
        dense, bm25_ids, bm25_weight = self._rankers(snap, query, n)
        fused = reciprocal_rank_fusion(
            [(dense, self.weights.dense), (bm25_ids, bm25_weight)], self.weights.rrf_k
        )
        return _Ranking(
            fused,
            {cid: r for r, cid in enumerate(dense, start=1)},
            {cid: r for r, cid in enumerate(bm25_ids, start=1)},
        )

    def _rankers(self, snap: SearchIndex, query: str, n: int) -> tuple[list[int], list[int], float]:
        """The dense ranking, the BM25 ranking and the weight BM25's gets for this query."""
        dense = snap.dense(self.embedder.embed_query(query), n)
        tokens = tokenize(query)
        bm25_ids = snap.keyword(tokens, n)
        bm25_weight = self.weights.bm25 * bm25_trust(snap.coverage(tokens))
        return dense, bm25_ids, bm25_weight

    def _hits(
        self, snap: SearchIndex, fused: list[tuple[int, float]], ranked: _Ranking
    ) -> list[SearchHit]:
        rows = snap.rows([cid for cid, _ in fused])
        dense_rank, bm25_rank = ranked.dense_rank, ranked.bm25_rank
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
                    title=row.title,
                    page=row.page_at(row.start),
                    context=row.context,
                    page_breaks=row.page_breaks,
                )
            )
        return hits
