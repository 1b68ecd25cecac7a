"""Answer speed and memory with the default models on this machine.

    python benchmarks/bench_answer.py [--questions 8]

Measures, in one process as a server would run it: raw llama.cpp prompt and generation
speed (tokens/s), then warm first-token and total latency over answerable questions of
the eval set (after one warm-up answer), and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics

from bench_llama_speed import llama_speed

from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.service import RagService


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=8)
    args = parser.parse_args()
    service = RagService()
    items = [it for it in load_dataset(DEFAULT_DATASET) if it.answerable][:: 70 // args.questions][
        : args.questions
    ]
    results: dict[str, object] = {"machine": f"{os.cpu_count()} cores", "questions": len(items)}
    service.ask(items[0].question)  # warm-up: loads both models, caches the system prompt
    speed = llama_speed(service.llm._llm)  # type: ignore[attr-defined]
    results.update({key: round(value, 1) for key, value in speed.items()})
    first, total = [], []
    for item in items:
        answer = service.ask(item.question)
        first.append(answer.timings["first_token_ms"])
        total.append(answer.timings["total_ms"])
    results["first_token_ms_p50"] = round(statistics.median(first))
    results["total_ms_p50"] = round(statistics.median(total))
    results["total_ms_max"] = round(max(total))
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    results["answer_context_chars"] = service.settings.answer_context_chars
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
