"""Calibrate the evidence check that refuses before generation.

For every eval item: retrieve, choose passages as the answer pipeline does, and compute
the coverage of the question's words (and its translation's, as the pipeline does) with
three ways of weighing the words: by length only, by length and rarity in the language,
and by length and rarity in the language and in the knowledge base (what the pipeline
uses). Prints, for a range of thresholds, how many unanswerable items each would refuse
and how many answerable ones it would refuse wrongly. Needs no generation (the
translation of a cross-language question uses the model once and is remembered).

    python benchmarks/calibrate_refusal.py [--dataset eval/jinan_qa.jsonl] [--kb NAME]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.answer.checks.evidence import TermWeight, check_evidence, term_weight
from rag.answer.context import select_passages
from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.service import RagService

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--kb", default=None)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    service = RagService()
    s = service.settings
    pipeline = service.answer_pipeline(args.kb)
    retriever = pipeline.retriever
    snap = retriever.kb.snapshot()
    weights: dict[str, TermWeight] = {
        "length": len,
        "language": term_weight(),
        "language+kb": term_weight(snap.keywords.rarity),
    }
    items = load_dataset(args.dataset)
    rows: dict[str, list[tuple[bool, float, bool]]] = {name: [] for name in weights}
    for item in items:
        hits = retriever.search(item.question, s.answer_passages)
        passages = select_passages(hits, item.question, s.answer_passages, s.answer_context_chars)
        translated = retriever.translation(item.question, snap)
        for name, weight in weights.items():
            checks = [
                check_evidence(q, passages, 0.0, weight) for q in (item.question, translated) if q
            ]
            best = max(checks, key=lambda c: (not c.missing, c.coverage))
            rows[name].append((item.answerable, best.coverage, bool(best.missing)))
            if args.show and name == "language+kb":
                print(
                    f"{item.id} {item.type:12s} cov={best.coverage:.2f} missing={best.missing} {item.question}"
                )
    n_no = sum(1 for it in items if not it.answerable)
    print(f"{args.dataset} ({len(items) - n_no} answerable, {n_no} unanswerable)")
    for name, found in rows.items():
        print(f"words weighed by {name}:")
        for threshold in THRESHOLDS:
            refused = [ans for ans, cov, missing in found if missing or cov < threshold]
            print(
                f"  min_coverage={threshold}: unanswerable refused {refused.count(False)}/{n_no}, "
                f"answerable refused {refused.count(True)}/{len(items) - n_no}"
            )


if __name__ == "__main__":
    main()
