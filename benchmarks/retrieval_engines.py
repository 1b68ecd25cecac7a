"""The same eval set through each engine (issue 14): FAISS with e5 in process (the
default), Milvus Lite, and e5 served over OpenAI's /v1/embeddings as a remote
embedding server would serve it. Retrieval must not change with the engine.

    python benchmarks/retrieval_engines.py [--dataset eval/jinan_qa.jsonl] [--corpus corpus/jinan]

Each engine gets a fresh index folder under a temporary directory; ingest and
`rag eval --retrieval-only` run as a user would run them (subprocesses with RAG_*
variables). Prints hit@5, MRR and the search p50 per engine, with the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI, Request  # noqa: E402  (at the top: FastAPI reads the hints)

from rag.evaluation.report import cpu_name  # noqa: E402


def serve_e5(port: int) -> None:
    """/v1/embeddings with the bundled e5, raw text in (as Text Embeddings Inference)."""
    import uvicorn

    from rag.models.embeddings import embedder_from_settings
    from rag.settings import Settings

    embedder: Any = embedder_from_settings(Settings())
    app = FastAPI()

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> dict[str, Any]:
        body = await request.json()
        vectors = embedder._encode(list(body["input"]), "")
        data = [{"index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
        return {"object": "list", "model": body["model"], "data": data}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_engine(name: str, env: dict[str, str], corpus: str, dataset: str, work: Path) -> dict:
    env = {**os.environ, "RAG_INDEX_DIR": str(work / name), **env}
    rag = [str(Path(sys.executable).parent / "rag")]
    started = time.perf_counter()
    subprocess.run(
        [*rag, "ingest", "--kb", "bench", corpus],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ingest_s = time.perf_counter() - started
    out = work / f"{name}-eval"
    subprocess.run(
        [
            *rag,
            "eval",
            "--kb",
            "bench",
            "--dataset",
            dataset,
            "--out",
            str(out),
            "--retrieval-only",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metrics = json.loads((out / "report.json").read_text())["metrics"]
    return {
        "hit@5": metrics["hit@5"],
        "mrr": metrics["mrr"],
        "search_p50_ms": metrics["latency_ms"]["search_ms"]["p50"],
        "ingest_s": round(ingest_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="eval/jinan_qa.jsonl")
    parser.add_argument("--corpus", default="corpus/jinan")
    args = parser.parse_args()
    port = free_port()
    threading.Thread(target=serve_e5, args=(port,), daemon=True).start()
    engines = {
        "faiss": {},
        "milvus-lite": {"RAG_VECTOR_STORE": "milvus"},
        "remote-e5": {
            "RAG_EMBEDDING_BACKEND": "openai",
            "RAG_EMBEDDING_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "RAG_EMBEDDING_QUERY_PREFIX": "query: ",
            "RAG_EMBEDDING_PASSAGE_PREFIX": "passage: ",
        },
    }
    print(f"CPU: {cpu_name()}; {args.dataset} over {args.corpus}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, env in engines.items():
            result = run_engine(name, env, args.corpus, args.dataset, Path(tmp))
            print(f"{name:12} " + "  ".join(f"{k} {v}" for k, v in result.items()), flush=True)


if __name__ == "__main__":
    main()
