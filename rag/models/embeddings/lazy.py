"""Load the embedding model only when something needs embedding.

Re-ingesting unchanged files and opening an index only need the model's id, which the
settings know; loading the weights costs seconds that such commands should not pay.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from rag.models.embeddings.base import Embedder


class LazyEmbedder:
    def __init__(self, model_id: str, factory: Callable[[], Embedder]):
        self.model_id = model_id
        self._factory = factory
        self._model: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Embedder:
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                print(f"Loading embedding model {self.model_id}...", file=sys.stderr, flush=True)
                self._model = self._factory()
                print(
                    f"  ready in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True
                )
            return self._model

    @property
    def dim(self) -> int:
        return self.model.dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.model.embed_query(text)
