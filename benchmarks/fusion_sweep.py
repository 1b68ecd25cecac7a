"""Sweep fusion settings and BM25 tokenisers over an already built knowledge base,
without re-embedding: dense rankings are computed once, BM25 is rebuilt per tokeniser.

    python benchmarks/fusion_sweep.py [--kb jinan]
"""

from __future__ import annotations

import argparse

from rag.evaluation import metrics as m
from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.evaluation.runner import EvidenceLocator
from rag.retrieve.hybrid import reciprocal_rank_fusion
from rag.service import RagService
from rag.store.keyword_index import KeywordIndex
from rag.store.knowledge_base import KnowledgeBase
from rag.text.tokens import tokenize

GRID = [
    (1, 1, 60),
    (1, 1, 10),
    (1, 1.5, 5),
    (1, 1.5, 10),
    (1, 1.5, 20),
    (1, 2, 5),
    (1, 2, 10),
    (1, 2, 20),
    (1, 2, 30),
    (1, 3, 10),
    (1, 3, 20),
    (1, 1.25, 10),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", default=None)
    args = parser.parse_args()
    service = RagService()
    kb = KnowledgeBase.open_existing(service.settings, args.kb)
    snap = kb.snapshot()
    rows = kb.catalog.chunk_rows(snap.chunk_ids)
    with kb.catalog.connect() as db:
        contexts = dict(db.execute("SELECT id, context FROM chunks").fetchall())
    items = [it for it in load_dataset(DEFAULT_DATASET) if it.answerable]
    locator = EvidenceLocator(service.document_texts(kb.name))
    n = 40
    dense = []
    for it in items:
        _, pos = snap.vectors.search(service.embedder.embed_query(it.question).reshape(1, -1), n)
        dense.append([snap.chunk_ids[p] for p in pos[0]])

    def holds(cid: int, item) -> bool:  # type: ignore[no-untyped-def]
        r = rows[cid]
        return any(
            src == r.source and any(m.covers((r.start, r.end), s) for s in spans)
            for src, spans in locator.spans(item)
        )

    tokenizers = {"search": tokenize}
    for tok_name, tok in tokenizers.items():
        index = KeywordIndex([tok(contexts[c]) for c in snap.chunk_ids])
        bm25 = [[snap.chunk_ids[p] for p, _ in index.search(tok(it.question), n)] for it in items]
        for wd, wb, k in GRID:
            ranks = []
            for it, d, b in zip(items, dense, bm25, strict=True):
                fused = [cid for cid, _ in reciprocal_rank_fusion([(d, wd), (b, wb)], k)][:10]
                ranks.append(m.first_rank([holds(c, it) for c in fused]))
            print(
                f"{tok_name:8s} dense={wd} bm25={wb} k={k}: hit@1={m.mean([m.hit_at(r, 1) for r in ranks])} "
                f"hit@5={m.mean([m.hit_at(r, 5) for r in ranks])} mrr={m.mean([m.reciprocal_rank(r) for r in ranks])}"
            )


if __name__ == "__main__":
    main()
