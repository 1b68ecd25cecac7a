"""The FAISS snapshot of a catalog's vectors, written atomically per generation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def build_index(vectors: np.ndarray, dim: int) -> Any:
    """Exact inner-product search: vectors are L2-normalised, so it is cosine.
    Flat is exact and fast enough up to a few hundred thousand chunks on 2 cores."""
    import faiss

    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


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
