"""Embedding backends for ingest, old and new, in one run on this machine.

    python benchmarks/bench_embedding.py [--rounds 3] [--limit 0]

Chunks the bundled corpus as ingest does (the texts ingest embeds, title and section
path included), then embeds them with each backend in alternating rounds, in the groups
ingest hands over (2 x RAG_EMBEDDING_BACKEND batch size). Prints, with the CPU: chunks/s
(median of the rounds, after one warm-up group), the ratio to sentence-transformers
(torch fp32, the backend before OpenVINO), query latency p50, and the smallest cosine
between a backend's passage vectors and torch's. Retrieval quality is `rag eval`'s to show.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.report import cpu_name
from rag.models.embeddings import Embedder, embedder_from_settings
from rag.service import RagService
from rag.settings import Settings

BACKENDS = ("sentence-transformers", "openvino")
QUERIES = ("地区生产总值的目标是多少", "How is the output directory chosen?", "研发投入强度")


class _Recorder:
    """Stands in for the embedder during ingest, to learn exactly what ingest embeds."""

    model_id = "bench:recorder"
    dim = 8

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += texts
        return np.eye(1, self.dim, dtype=np.float32).repeat(len(texts), 0)

    def embed_query(self, text: str) -> np.ndarray:
        return np.eye(1, self.dim, dtype=np.float32)[0]


def ingest_texts() -> list[str]:
    recorder = _Recorder()
    with tempfile.TemporaryDirectory() as tmp:
        RagService(Settings(index_dir=Path(tmp)), embedder=recorder).ingest(progress=False)
    return recorder.texts


def embed_all(embedder: Embedder, texts: list[str], group: int) -> np.ndarray:
    return np.vstack(
        [embedder.embed_passages(texts[i : i + group]) for i in range(0, len(texts), group)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="embed only the first N chunks")
    args = parser.parse_args()

    texts = ingest_texts()
    if args.limit:
        texts = texts[: args.limit]
    settings = Settings()
    group = settings.embedding_batch_size * 2
    embedders = {}
    for name in BACKENDS:
        embedders[name] = embedder_from_settings(
            settings.model_copy(update={"embedding_backend": name})
        )
        embedders[name].embed_passages(texts[:group])  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in BACKENDS}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name in BACKENDS:
            started = time.perf_counter()
            vectors[name] = embed_all(embedders[name], texts, group)
            seconds[name].append(time.perf_counter() - started)
    query_ms = {}
    for name in BACKENDS:
        times = []
        for query in QUERIES * 5:
            started = time.perf_counter()
            embedders[name].embed_query(query)
            times.append((time.perf_counter() - started) * 1000)
        query_ms[name] = statistics.median(times)

    base = statistics.median(seconds[BACKENDS[0]])
    print(
        f"CPU: {cpu_name()}, {settings.threads} threads; {len(texts)} chunks of the bundled corpus"
    )
    print(f"{'backend':24} {'chunks/s':>9} {'x torch':>8} {'query p50':>10} {'min cosine':>11}")
    for name in BACKENDS:
        median = statistics.median(seconds[name])
        cosine = float((vectors[name] * vectors[BACKENDS[0]]).sum(1).min())
        print(
            f"{name:24} {len(texts) / median:9.1f} {base / median:8.2f}"
            f" {query_ms[name]:8.1f} ms {cosine:11.6f}"
        )


if __name__ == "__main__":
    main()
