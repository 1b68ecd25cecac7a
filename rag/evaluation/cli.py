"""`rag eval`: run a dataset, write report.json and report.html, optionally compare."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.evaluation.dataset import DatasetError, load_dataset, validate_against_corpus
from rag.evaluation.report import (
    HEADLINE,
    build_report,
    compare,
    cpu_name,
    format_comparison,
    write_report,
)
from rag.evaluation.runner import EvidenceLocator, run_items, summarise
from rag.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from rag.service import RagService

DEFAULT_DATASET = PROJECT_ROOT / "eval" / "jinan_qa.jsonl"


def add_eval_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="score the assistant on a question-answer set")
    p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    p.add_argument("--kb")
    p.add_argument("--retrieval-only", action="store_true", help="skip answer generation")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--out", type=Path, help="output folder (default eval/runs/<time>)")
    p.add_argument("--compare", type=Path, help="an older report.json to compare with")
    p.add_argument("--min-hit5", type=float, help="exit 1 when hit@5 falls below this")
    p.add_argument(
        "--validate",
        action="store_true",
        help="only check the dataset: every evidence verbatim in its source file",
    )
    p.add_argument("--corpus", type=Path, help="with --validate: the folder of source files")
    p.set_defaults(handler=run_eval_command)


def run_eval_command(service: RagService, args: argparse.Namespace) -> int:
    try:
        items = load_dataset(args.dataset)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.validate:
        corpus = args.corpus or service.settings.corpus_dir
        problems = validate_against_corpus(items, corpus, service.extract_text)
        for problem in problems:
            print(problem)
        print(f"{len(items)} items, {len(problems)} problems (sources in {corpus})")
        return 1 if problems else 0
    items = items[: args.limit] if args.limit else items
    kb_name = service.kb_name(args.kb)
    if kb_name == service.settings.kb and not service.settings.kb_dir(kb_name).exists():
        print(
            f"Knowledge base {kb_name!r} is missing: ingesting the bundled corpus first.",
            file=sys.stderr,
        )
        service.ingest(kb=kb_name)
    locator = EvidenceLocator(service.document_texts(kb_name))
    for source in sorted(locator.missing_sources(items)):
        print(
            f"warning: {source} is not in knowledge base {kb_name!r}; its evidence cannot be found",
            file=sys.stderr,
        )

    answer = None if args.retrieval_only else service.answer_fn(kb_name)
    started = time.perf_counter()
    results = run_items(items, lambda q, k: service.search(q, k, kb_name), locator, answer)
    summary = summarise(results)
    run_info = {
        "dataset": str(args.dataset),
        "kb": kb_name,
        "items": len(items),
        "retrieval_only": bool(args.retrieval_only),
        "seconds": round(time.perf_counter() - started, 1),
        "embedding_model": service.settings.embedding_model,
        "cpu": f"{cpu_name()}, {os.cpu_count()} cores",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report = build_report(summary, results, run_info)
    comparison = (
        compare(json.loads(args.compare.read_text(encoding="utf-8")), report)
        if args.compare
        else None
    )
    out = args.out or PROJECT_ROOT / "eval" / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    path = write_report(report, out, comparison)
    print(_headline(summary))
    if comparison:
        print(format_comparison(comparison))
    print(f"report: {path} and {path.with_suffix('.html')}")
    if args.min_hit5 is not None and (summary.get("hit@5") or 0) < args.min_hit5:
        print(
            f"FAIL: hit@5 {summary.get('hit@5')} is below the floor {args.min_hit5}",
            file=sys.stderr,
        )
        return 1
    return 0


def _headline(summary: dict[str, Any]) -> str:
    parts = [f"{k}={summary[k]}" for k in HEADLINE if summary.get(k) is not None]
    return f"{summary['items']} items: " + "  ".join(parts)
