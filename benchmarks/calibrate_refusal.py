"""Calibrate the evidence check that refuses before generation.

For every eval item: retrieve, choose passages as the answer pipeline does, and compute
the coverage of the question's specific terms and its missing anchors. Prints, for a
range of thresholds, how many unanswerable items would be refused and how many
answerable ones would be refused wrongly (no language model needed).

    python benchmarks/calibrate_refusal.py [--dataset eval/jinan_qa.jsonl]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.answer.checks.evidence import check_evidence
from rag.answer.context import select_passages
from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.service import RagService


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    service = RagService()
    s = service.settings
    rows = []
    for item in load_dataset(args.dataset):
        hits = service.search(item.question, s.answer_passages)
        passages = select_passages(hits, item.question, s.answer_passages, s.answer_context_chars)
        check = check_evidence(item.question, passages, 0.0)
        rows.append((item, check))
        if args.show:
            print(
                f"{item.id} {item.type:12s} cov={check.coverage:.2f} missing={check.missing} {item.question}"
            )
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        refused = [(it, c) for it, c in rows if c.missing or c.coverage < threshold]
        no = sum(1 for it, _ in refused if not it.answerable)
        wrong = sum(1 for it, _ in refused if it.answerable)
        n_no = sum(1 for it, _ in rows if not it.answerable)
        print(
            f"min_coverage={threshold}: unanswerable refused {no}/{n_no}, "
            f"answerable refused {wrong}/{len(rows) - n_no}"
        )


if __name__ == "__main__":
    main()
