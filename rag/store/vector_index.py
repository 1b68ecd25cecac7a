"""The FAISS snapshot of a catalog's vectors, written atomically per generation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.settings import Settings


@dataclass(frozen=True)
class IndexChoice:
    """Exact search up to `exact_up_to` vectors, an inverted file (IVF) above it, which
    searches the `nprobe` lists nearest the query: benchmarks/bench_vector_index.py
    measured where flat search grows slower than the IVF and what nprobe keeps
    recall@10 at 0.95 and more."""

    # the settings' defaults, written once there with the measurement behind them
    exact_up_to: int = Settings.model_fields["vector_index_exact_up_to"].default
    nprobe: int = Settings.model_fields["vector_index_nprobe"].default


DEFAULT_INDEX = IndexChoice()


def ivf_lists(n: int) -> int:
    """Lists of an IVF over n vectors: about 4·sqrt(n), FAISS's usual rule, and never
    fewer than 8 vectors a list to train on."""
    return max(1, min(int(4 * n**0.5), n // 8))


def build_index(vectors: np.ndarray, dim: int, choice: IndexChoice = DEFAULT_INDEX) -> Any:
    """Inner-product search: vectors are L2-normalised, so it is cosine. Flat (exact)
    up to `choice.exact_up_to` vectors, an IVF above."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) <= choice.exact_up_to:
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return index
    lists = ivf_lists(len(vectors))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
    # k-means on a fixed sample: 64 vectors a list is plenty, and a rebuild is repeatable
    sample = np.random.default_rng(0).permutation(len(vectors))[: lists * 64]
    ivf.train(vectors[np.sort(sample)])
    ivf.add(vectors)
    ivf.nprobe = min(choice.nprobe, lists)  # kept in the written file
    return ivf


def snapshot_path(kb_dir: Path, generation: int) -> Path:
    return kb_dir / f"vectors-{generation}.faiss"


def write_snapshot(index: Any, kb_dir: Path, generation: int) -> Path:
    import faiss

    target = snapshot_path(kb_dir, generation)
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    for old in kb_dir.glob("vectors-*.faiss"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def read_snapshot(kb_dir: Path, generation: int, expected_rows: int) -> Any:
    """The snapshot for this generation, or None when it is missing or does not match."""
    import faiss

    path = snapshot_path(kb_dir, generation)
    if not path.exists():
        return None
    try:
        index = faiss.read_index(str(path))
    except RuntimeError:
        return None
    return index if index.ntotal == expected_rows else None
