"""Where does each retriever put the evidence? Dense-only, BM25-only and fused ranks
of the first evidence passage, per item of an eval set (diagnostics for tuning).

    python benchmarks/retrieval_ablation.py [--dataset eval/jinan_qa.jsonl] [--kb jinan]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from rag.evaluation import metrics as m
from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.evaluation.runner import EvidenceLocator, score_retrieval
from rag.retrieve.hybrid import FusionWeights, HybridRetriever
from rag.service import RagService
from rag.store.knowledge_base import KnowledgeBase
from rag.text.tokens import tokenize


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--kb", default=None)
    parser.add_argument("--show", type=int, default=0, help="print this many misses")
    args = parser.parse_args()
    service = RagService()
    kb = KnowledgeBase.open_existing(service.settings, args.kb)
    items = [it for it in load_dataset(args.dataset) if it.answerable]
    locator = EvidenceLocator(service.document_texts(kb.name))
    fused = FusionWeights.from_settings(service.settings)
    configs = {
        "dense": replace(fused, dense=1.0, bm25=0.0),
        "bm25": replace(fused, dense=0.0, bm25=1.0),
        "fused": fused,
    }
    ranks: dict[str, list[int | None]] = {name: [] for name in configs}
    for name, weights in configs.items():
        retriever = HybridRetriever(kb, service.embedder, weights)
        for item in items:
            hits = [h for h in retriever.search(item.question, 40)]
            if name != "fused":  # one retriever alone: keep only what it ranked
                key = "dense_rank" if name == "dense" else "bm25_rank"
                hits = [h for h in hits if getattr(h, key) is not None]
            _, first, _ = score_retrieval(hits, locator.spans(item))
            ranks[name].append(first)
    for name, rs in ranks.items():
        hit5 = m.mean([m.hit_at(r, 5) for r in rs])
        mrr = m.mean([m.reciprocal_rank(r if r and r <= 10 else None) for r in rs])
        print(f"{name:6s} hit@1={m.mean([m.hit_at(r, 1) for r in rs])} hit@5={hit5} mrr@10={mrr}")
    shown = 0
    for item, d, b, f in zip(items, ranks["dense"], ranks["bm25"], ranks["fused"], strict=True):
        if (f is None or f > 5) and shown < args.show:
            shown += 1
            print(f"{item.id} dense={d} bm25={b} fused={f} {item.question}")
            print(f"      tokens={tokenize(item.question)}")


if __name__ == "__main__":
    main()
