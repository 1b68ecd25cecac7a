"""The server under load, with the default models, on loopback.

    python benchmarks/bench_serve.py [--users 8] [--max-tokens 220]

Starts the real app (chat UI, API, queue) in this process on a free port, answers one
warm-up question, then measures:
- one user at a time: first-token and total latency over a few questions;
- N users at once (one question each, through POST /api/ask): how many complete and
  how many error, time waiting in the queue, first token and total per user, and the
  longest line anyone saw;
- N users at once again, half of whom hang up mid-way (while queued, or after the first
  words): do all the others complete, is the queue empty afterwards, and how much
  sooner is everyone done than when all stay;
and the process's peak memory (models, index and server together).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import threading
import time
from typing import Any

import httpx
import uvicorn

from rag.evaluation.cli import DEFAULT_DATASET
from rag.evaluation.dataset import load_dataset
from rag.interfaces.server.app import create_app
from rag.service import RagService


def eval_questions(n: int) -> list[str]:
    """Answerable number and fact questions of the eval set, spread over its documents."""
    items = [
        it
        for it in load_dataset(DEFAULT_DATASET)
        if it.answerable and it.type in ("number", "fact")
    ]
    return [it.question for it in items[:: max(1, len(items) // n)][:n]]


def start_server(service: RagService, port: int = 7871) -> str:
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def converse(url: str, question: str, hang_up_at: str | None = None) -> dict[str, Any]:
    """One question through /api/ask; with `hang_up_at` ("started", "token"), the client
    closes the connection at that event (or at "queued", if it has to wait)."""
    started = time.perf_counter()
    record: dict[str, Any] = {"question": question, "positions": []}
    with (
        httpx.Client(timeout=1800) as client,
        client.stream("POST", url + "/api/ask", json={"question": question}) as response,
    ):
        record["status"] = response.status_code
        for line in response.iter_lines():
            if not line.strip():
                continue
            event = json.loads(line)
            now = round(time.perf_counter() - started, 2)
            kind = event["type"]
            if kind == "queued":
                record["positions"].append(event["position"])
            elif kind == "started":
                record["queue_s"] = now
            elif kind == "token" and "first_token_s" not in record:
                record["first_token_s"] = now
            elif kind in ("done", "error"):
                record["end"] = kind
                record["total_s"] = now
                record["refused"] = event.get("refused")
            if hang_up_at and kind in (hang_up_at, "queued"):
                record["end"] = "hung_up"
                break
    return record


def at_once(
    url: str, questions: list[str], hang_ups: list[str | None]
) -> tuple[list[dict[str, Any]], float]:
    """Every question from its own client at the same moment; (records, wall seconds)."""
    records: list[dict[str, Any]] = [{} for _ in questions]

    def run(i: int) -> None:
        records[i] = converse(url, questions[i], hang_ups[i])

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records, round(time.perf_counter() - started, 1)


def median(records: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in records if key in r]
    return round(statistics.median(values), 2) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--single", type=int, default=4, help="questions asked one at a time")
    parser.add_argument("--max-tokens", type=int, default=None)
    args = parser.parse_args()
    service = RagService()
    if args.max_tokens:
        service.settings.llm_max_tokens = args.max_tokens
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "users": args.users}
    questions = eval_questions(max(args.users, args.single) + 1)
    url = start_server(service)
    converse(url, questions[-1])  # warm-up: loads the models
    single = [converse(url, q) for q in questions[: args.single]]
    results["one_at_a_time"] = {
        "first_token_s_p50": median(single, "first_token_s"),
        "total_s_p50": median(single, "total_s"),
    }
    records, wall_s = at_once(url, questions[: args.users], [None] * args.users)
    results["at_once"] = {
        "completed": sum(r.get("end") == "done" for r in records),
        "errors": sum(r.get("end") != "done" for r in records),
        "wall_s": wall_s,
        "queue_s_p50": median(records, "queue_s"),
        "first_token_s_p50": median(records, "first_token_s"),
        "total_s_p50": median(records, "total_s"),
        "total_s_max": max(r.get("total_s", 0) for r in records),
        "longest_line_seen": max(max(r["positions"], default=0) for r in records),
    }
    # every other user hangs up: half while waiting, half after the first words
    hang_ups = [
        None if i % 2 == 0 else ("token" if i % 4 == 1 else "started") for i in range(args.users)
    ]
    records, wall_s = at_once(url, questions[: args.users], hang_ups)
    stayed = [r for r, h in zip(records, hang_ups, strict=True) if h is None]
    queue = httpx.get(url + "/health", timeout=10).json()["queue"]
    results["half_hang_up"] = {
        "stayed": len(stayed),
        "stayed_completed": sum(r.get("end") == "done" for r in stayed),
        "hung_up": sum(r.get("end") == "hung_up" for r in records),
        "wall_s": wall_s,
        "total_s_p50_of_stayers": median(stayed, "total_s"),
        "queue_after": {"active": queue["active"], "waiting": queue["waiting"]},
    }
    results["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
