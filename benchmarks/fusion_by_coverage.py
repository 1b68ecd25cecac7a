"""How far to trust BM25 by how much of a query's idf mass the corpus holds, measured on
several knowledge bases at once (a choice made on one corpus fits only that one).

    python benchmarks/fusion_by_coverage.py [--set KB=DATASET ...]

For each curve of `bm25_trust` (the weight BM25 gets in the fusion, as a share of
RAG_BM25_WEIGHT, given the query's coverage), runs the real search of every question of
each set (translations included, made once and reused) and prints hit@5 and MRR per set,
with the search's p50 latency and the CPU. The knowledge bases must be built first:
`rag ingest`, `rag ingest --kb debfaq eval/corpora/debian_faq_zh` and
`rag ingest --kb rustdoc eval/corpora/rustdoc_book`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation import metrics as m
from rag.evaluation.dataset import EvalItem, load_dataset
from rag.evaluation.report import cpu_name
from rag.evaluation.runner import EvidenceLocator, score_retrieval
from rag.retrieve import hybrid
from rag.service import RagService

SETS = [
    "jinan=eval/jinan_qa.jsonl",
    "debfaq=eval/debian_faq_zh_qa.jsonl",
    "rustdoc=eval/rustdoc_zh_qa.jsonl",
]
CURVES: dict[str, Callable[[float], float]] = {
    "always 1 (before)": lambda c: 1.0,
    "coverage": lambda c: c,
    "coverage / 0.3, at most 1": lambda c: min(1.0, c / 0.3),
    "coverage / 0.5, at most 1": lambda c: min(1.0, c / 0.5),
    "0 below 0.1, 1 from 0.4": lambda c: min(1.0, max(0.0, (c - 0.1) / 0.3)),
    "1 from 0.2, else 0": lambda c: 1.0 if c >= 0.2 else 0.0,
}


Sets = list[tuple[str, list[EvalItem], EvidenceLocator]]


def load_sets(service: RagService, specs: list[str]) -> Sets:
    """The answerable items of each KB=DATASET, each searched once so that translations
    and model loading are done before anything is timed."""
    sets = []
    for spec in specs:
        kb, dataset = spec.split("=", 1)
        items = [it for it in load_dataset(Path(dataset)) if it.answerable]
        sets.append((kb, items, EvidenceLocator(service.document_texts(kb))))
        for item in items:
            service.search(item.question, kb=kb)
    return sets


def measure(service: RagService, sets: Sets) -> str:
    """hit@5 and MRR per set and the search's p50, as one line."""
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
    return f"{' | '.join(cells)} | search p50 {statistics.median(times):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="KB=DATASET")
    args = parser.parse_args()
    service = RagService()
    sets = load_sets(service, args.sets or SETS)
    print(f"CPU: {cpu_name()}")
    original = hybrid.bm25_trust
    for name, curve in CURVES.items():
        hybrid.bm25_trust = curve
        print(f"{name:28} {measure(service, sets)}")
    hybrid.bm25_trust = original


if __name__ == "__main__":
    main()
