"""Dense search at scale on this machine: exact (flat) against approximate (IVF, HNSW)
FAISS indexes, from ten thousand to a million chunks (issue 14).

    python benchmarks/bench_vector_index.py [--sizes 10000,100000,300000,1000000]
        [--queries 200] [--hnsw-up-to 300000] [--milvus-up-to 100000]

The vectors are drawn to match e5's distribution, not embedded (a million e5 passages
take a day here): a Gaussian with the mean and covariance of the real e5 vectors of the
knowledge bases in RAG_INDEX_DIR (the bundled reports and the eval corpora, as built by
`rag ingest`), L2-normalised as e5's are. The queries are the real e5 query vectors of
the eval sets' questions, and more drawn the same way when there are fewer than
--queries. For each size it prints, with the CPU: flat search p50/p95; IVF (nlist about
4·sqrt(n), several nprobe) and HNSW (M 32) build time, search p50/p95 and recall@10
against the flat results; and the memory of each index. Up to --milvus-up-to, the same
vectors in Milvus Lite (a local file, as RAG_VECTOR_STORE=milvus uses it): insert time,
FLAT and IVF_FLAT search p50/p95 and recall@10. Searches are one query at a time, as a
server asks them.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.report import cpu_name
from rag.settings import Settings
from rag.store.vector_index import IndexChoice, build_index, ivf_lists


def real_vectors(index_dir: Path) -> np.ndarray:
    rows = []
    for catalog in sorted(index_dir.glob("*/catalog.sqlite3")):
        with sqlite3.connect(catalog) as db:
            rows += [
                np.frombuffer(v, np.float32) for (v,) in db.execute("SELECT vector FROM chunks")
            ]
    if len(rows) < 400:
        raise SystemExit(
            f"need the e5 vectors of at least 400 chunks in {index_dir}; run rag ingest"
        )
    return np.vstack(rows)


def drawn(real: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = real.mean(axis=0)
    cov = np.cov(real, rowvar=False) + 1e-6 * np.eye(real.shape[1])
    root = np.linalg.cholesky(cov)
    out = np.empty((n, real.shape[1]), np.float32)
    for first in range(0, n, 100_000):
        k = min(100_000, n - first)
        block = mean + rng.standard_normal((k, real.shape[1])) @ root.T
        out[first : first + k] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def query_vectors(real: np.ndarray, count: int) -> np.ndarray:
    from rag.evaluation.dataset import load_dataset
    from rag.models.embeddings import embedder_from_settings

    embedder = embedder_from_settings(Settings())
    questions = [
        item.question
        for name in ("jinan_qa", "rustdoc_zh_qa", "debian_faq_zh_qa")
        for item in load_dataset(Path("eval") / f"{name}.jsonl")
    ][:count]
    vectors = np.vstack([embedder.embed_query(q) for q in questions]).astype(np.float32)
    if len(vectors) < count:
        vectors = np.vstack([vectors, drawn(real, count - len(vectors), seed=99)])
    return vectors


def timed_search(index: object, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    times, found = [], []
    for q in queries:
        started = time.perf_counter()
        _, ids = index.search(q[None, :], k)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return times, np.vstack(found)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def index_mb(index: object) -> float:
    import faiss

    return len(faiss.serialize_index(index)) / 2**20


def milvus_lite(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, folder: Path) -> None:
    """The same vectors in a Milvus Lite file: FLAT (what rag uses on Lite), then IVF."""
    from pymilvus import DataType, MilvusClient

    client = MilvusClient(str(folder / f"bench-{len(base)}.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=base.shape[1])
    started = time.perf_counter()
    client.create_collection("bench", schema=schema)
    for first in range(0, len(base), 5000):
        block = base[first : first + 5000]
        client.insert(
            "bench",
            [{"id": first + i, "vector": v.tolist()} for i, v in enumerate(block)],
        )
    client.flush("bench")
    insert_s = time.perf_counter() - started
    lists = ivf_lists(len(base))
    for kind, params, search in (
        ("FLAT", {}, {}),
        ("IVF_FLAT", {"nlist": lists}, {"nprobe": 32}),
    ):
        client.release_collection("bench")
        if client.list_indexes("bench"):
            client.drop_index("bench", "vector")
        index = client.prepare_index_params()
        index.add_index("vector", index_type=kind, metric_type="IP", params=params)
        started = time.perf_counter()
        client.create_index("bench", index)
        client.load_collection("bench")
        build = time.perf_counter() - started
        times, found = [], []
        for q in queries:
            t0 = time.perf_counter()
            hits = client.search(
                "bench",
                data=[q.tolist()],
                anns_field="vector",
                limit=10,
                search_params={"metric_type": "IP", "params": search},
            )
            times.append((time.perf_counter() - t0) * 1000)
            found.append([int(h["id"]) for h in hits[0]] + [-1] * (10 - len(hits[0])))
        print(
            f"  Milvus Lite {kind} {params or ''}{search or ''}: insert {insert_s:.1f} s,"
            f" index {build:.1f} s, p50 {statistics.median(times):.1f} ms"
            f" p95 {p(times, 0.95):.1f} ms, recall@10 {recall(np.array(found), truth):.3f}",
            flush=True,
        )
    client.close()


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,300000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--hnsw-up-to", type=int, default=300_000, help="HNSW builds slowly")
    parser.add_argument(
        "--nprobes",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[16, 32, 64, 128, 256],
        help="IVF lists searched",
    )
    parser.add_argument(
        "--efs",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[64, 128, 256],
        help="HNSW efSearch values",
    )
    parser.add_argument("--milvus-up-to", type=int, default=100_000, help="0: no Milvus")
    args = parser.parse_args()
    faiss.omp_set_num_threads(Settings().threads)
    real = real_vectors(Settings().index_dir)
    scratch = Path(tempfile.mkdtemp(prefix="bench-vector-index-"))
    queries = query_vectors(real, args.queries)
    print(f"CPU: {cpu_name()}; {len(real)} real e5 vectors fitted, {len(queries)} queries")
    for n in (int(s) for s in args.sizes.split(",")):
        base = drawn(real, n, seed=n)
        dim = base.shape[1]
        flat = faiss.IndexFlatIP(dim)
        flat.add(base)
        flat_ms, truth = timed_search(flat, queries)
        print(
            f"\n{n:,} vectors: flat p50 {statistics.median(flat_ms):.1f} ms"
            f" p95 {p(flat_ms, 0.95):.1f} ms, {index_mb(flat):.0f} MB",
            flush=True,
        )
        lists = ivf_lists(n)
        started = time.perf_counter()  # the builder a knowledge base uses, forced to IVF
        ivf = build_index(base, dim, IndexChoice(exact_up_to=0, nprobe=lists))
        build = time.perf_counter() - started
        for nprobe in args.nprobes:
            ivf.nprobe = nprobe
            ms, found = timed_search(ivf, queries)
            print(
                f"  IVF{lists} nprobe {nprobe}: build {build:.1f} s, p50 {statistics.median(ms):.1f}"
                f" ms p95 {p(ms, 0.95):.1f} ms, recall@10 {recall(found, truth):.3f},"
                f" {index_mb(ivf):.0f} MB",
                flush=True,
            )
        if n <= args.hnsw_up_to:
            hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = 80
            started = time.perf_counter()
            hnsw.add(base)
            build = time.perf_counter() - started
            for ef in args.efs:
                hnsw.hnsw.efSearch = ef
                ms, found = timed_search(hnsw, queries)
                print(
                    f"  HNSW32 efSearch {ef}: build {build:.1f} s, p50 {statistics.median(ms):.2f}"
                    f" ms p95 {p(ms, 0.95):.2f} ms, recall@10 {recall(found, truth):.3f},"
                    f" {index_mb(hnsw):.0f} MB",
                    flush=True,
                )
        if n <= args.milvus_up_to:
            milvus_lite(base, queries, truth, scratch)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
