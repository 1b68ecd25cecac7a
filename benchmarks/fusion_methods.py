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
knowledge bases must be built first (see fusion_by_coverage.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fusion_by_coverage import SETS, load_sets, measure  # the same sets, measured alike

from rag.evaluation.report import cpu_name
from rag.retrieve.hybrid import HybridRetriever, _Ranking, reciprocal_rank_fusion
from rag.service import RagService
from rag.store.knowledge_base import Snapshot


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
    sets = load_sets(service, args.sets or SETS)
    print(f"CPU: {cpu_name()}")
    original = HybridRetriever._rank_in_both_languages
    for name, method in METHODS.items():
        HybridRetriever._rank_in_both_languages = method  # type: ignore[method-assign]
        print(f"{name:34} {measure(service, sets)}")
    HybridRetriever._rank_in_both_languages = original  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
