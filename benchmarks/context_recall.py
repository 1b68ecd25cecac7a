"""How often the context the model reads holds every key fact, per character budget.

For each answerable eval item: retrieve, choose passages as the answer pipeline does,
and check whether every `must_contain` string appears in what the model would read.
No language model: it separates "the facts never reached the model" from "the model
missed them", and shows what a smaller context (a shorter wait) costs.

    python benchmarks/context_recall.py [--budgets 300 450 600 900] [--passages 5]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from rag.answer.context import select_passages
from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.evaluation.metrics import normalise
from rag.service import RagService


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--budgets", type=int, nargs="+", default=[300, 450, 600, 900])
    parser.add_argument("--passages", type=int, nargs="+", default=[5])
    parser.add_argument("--show", type=int, help="list the misses at this budget")
    args = parser.parse_args()
    service = RagService()
    items = [it for it in load_dataset(args.dataset) if it.answerable]
    k = max(args.passages)
    hits = {it.id: service.search(it.question, k) for it in items}
    for n in args.passages:
        for budget in args.budgets:
            full, sizes, misses = 0, [], []
            for it in items:
                passages = select_passages(hits[it.id], it.question, n, budget)
                context = normalise("\n".join(p.text for p in passages))
                sizes.append(sum(len(p.text) for p in passages))
                if all(normalise(m) in context for m in it.must_contain):
                    full += 1
                else:
                    misses.append(it)
            print(
                f"passages={n} budget={budget}: all key facts in context {full}/{len(items)} "
                f"({full / len(items):.3f}), context chars median {statistics.median(sizes):.0f}"
            )
            if args.show == budget:
                for it in misses:
                    print(f"   {it.id} {it.type:10s} {it.must_contain} {it.question}")


if __name__ == "__main__":
    main()
