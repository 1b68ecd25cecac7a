"""Retrieval speed on this machine: cold ingest, re-ingest, warm search, peak memory.

    python benchmarks/bench_retrieval.py [--searches 200]

Cold ingest and re-ingest run `rag ingest` as fresh processes into a new temporary index
(the models are already built in the cache, as after `make setup`), so their wall time
includes Python start-up and model loading, as a user sees it. Warm search runs in this
process after one warm-up query, over the eval set's questions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.service import RagService
from rag.settings import Settings


def _run_ingest(index_dir: Path) -> tuple[float, str]:
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir)}
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "rag.interfaces.cli", "ingest"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    results: dict[str, object] = {
        "machine": f"{platform.node()} {os.cpu_count()} cores {platform.processor() or platform.machine()}",
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp)
        cold, summary = _run_ingest(index_dir)
        results["cold_ingest_s"] = round(cold, 1)
        results["cold_ingest_summary"] = summary
        rerun = [_run_ingest(index_dir)[0] for _ in range(3)]
        results["reingest_unchanged_s_median"] = round(statistics.median(rerun), 2)
        results["ingest_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        )

        started = time.perf_counter()
        service = RagService(Settings(index_dir=index_dir))
        service.search("济南")  # loads the model and the snapshot
        results["search_process_startup_s"] = round(time.perf_counter() - started, 1)
        questions = [item.question for item in load_dataset(DEFAULT_DATASET)]
        timings = []
        for i in range(args.searches):
            t0 = time.perf_counter()
            service.search(questions[i % len(questions)], k=5)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        results["warm_search_ms_p50"] = round(statistics.median(timings), 1)
        results["warm_search_ms_p95"] = round(timings[int(len(timings) * 0.95) - 1], 1)
        results["search_process_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
