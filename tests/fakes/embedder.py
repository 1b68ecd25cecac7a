"""A deterministic, model-free embedder for fast unit tests of the plumbing.

Character bigrams hashed into a fixed number of buckets: texts that share words get
similar vectors, which is enough to test indexing and fusion without loading a model.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    model_id = "test:hashing-bigrams"

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, np.float32)
        for a, b in itertools.pairwise(text):
            bucket = int.from_bytes(hashlib.blake2b((a + b).encode(), digest_size=4).digest())
            vec[bucket % self.dim] += 1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return (
            np.stack([self._vector(t) for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32)
        )

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
