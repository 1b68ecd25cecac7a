"""How to fuse the rankings of a question and of its translation, on several knowledge
bases at once (a choice made on one corpus fits only that one).

    python benchmarks/fusion_methods.py [--set KB=DATASET ...]

A question over a knowledge base partly in the other language is searched as asked and
as translated; each search has a dense and a BM25 ranking. Compared:
- "per language, then both": each search's two rankings fused by weighted RRF, then the
  two fused rankings by RRF with equal weights (before);
- "all rankers at once": the four rankings in one weighted RRF, so a BM25 ranking the
  corpus cannot match (its trust near 0) no longer counts as a whole language's say
  (what the retriever does now).
Prints hit@5 and MRR per set and the search's p50 latency, with the CPU. Questions in
the documents' own language are never translated, so the two agree on them. The
knowledge bases must be built first: `rag ingest` and
`rag ingest --kb rustdoc eval/corpora/rustdoc_book`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation import metrics as m
from rag.evaluation.dataset import load_dataset
from rag.evaluation.report import cpu_name
from rag.evaluation.runner import EvidenceLocator, score_retrieval
from rag.retrieve.hybrid import HybridRetriever, _Ranking, reciprocal_rank_fusion
from rag.service import RagService
from rag.store.knowledge_base import Snapshot

SETS = ["jinan=eval/jinan_qa.jsonl", "rustdoc=eval/rustdoc_zh_qa.jsonl"]


def per_language_then_both(self: HybridRetriever, snap: Snapshot, query: str, n: int) -> _Ranking:
    """Before: each language's two rankings fused, then the two fused rankings."""
    ranked = self._rank(snap, query, n)
    translated = self.translation(query, snap)
    if not translated:
        return ranked
    other = self._rank(snap, translated, n)
    fused = reciprocal_rank_fusion(
        [([c for c, _ in ranked.fused], 1.0), ([c for c, _ in other.fused], 1.0)],
        self.weights.rrf_k,
    )
    return _Ranking(
        fused[:n],
        {**other.dense_rank, **ranked.dense_rank},
        {**other.bm25_rank, **ranked.bm25_rank},
    )


METHODS = {
    "per language, then both (before)": per_language_then_both,
    "all rankers at once (now)": HybridRetriever._rank_in_both_languages,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="KB=DATASET")
    args = parser.parse_args()
    service = RagService()
    sets = []
    for spec in args.sets or SETS:
        kb, dataset = spec.split("=", 1)
        items = [it for it in load_dataset(Path(dataset)) if it.answerable]
        sets.append((kb, items, EvidenceLocator(service.document_texts(kb))))
        for item in items:  # translations and model loading happen once, here
            service.search(item.question, kb=kb)
    print(f"CPU: {cpu_name()}")
    original = HybridRetriever._rank_in_both_languages
    for name, method in METHODS.items():
        HybridRetriever._rank_in_both_languages = method  # type: ignore[method-assign]
        cells, times = [], []
        for kb, items, locator in sets:
            ranks = []
            for item in items:
                started = time.perf_counter()
                hits = service.search(item.question, kb=kb, k=10)
                times.append((time.perf_counter() - started) * 1000)
                ranks.append(score_retrieval(hits, locator.spans(item))[1])
            hit5 = m.mean([m.hit_at(r, 5) for r in ranks])
            mrr = m.mean([m.reciprocal_rank(r) for r in ranks])
            cells.append(f"{kb} hit@5 {hit5:.3f} MRR {mrr:.3f}")
        print(f"{name:34} {' | '.join(cells)} | search p50 {statistics.median(times):.1f} ms")
    HybridRetriever._rank_in_both_languages = original  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
