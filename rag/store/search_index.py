"""What a search reads of a knowledge base: one interface, two engines.

FAISS and an in-memory BM25 built from the catalog (`Snapshot`, the default), or a
Milvus collection that holds the vectors, the keyword index and each chunk's citation
fields (rag/store/milvus_index.py). The retriever and the evidence check ask only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rag.store.catalog import Catalog, ChunkRow
from rag.store.keyword_index import KeywordIndex


class SearchIndex(Protocol):
    @property
    def size(self) -> int:
        """Chunks searched."""
        ...

    @property
    def han_share(self) -> float | None:
        """How much of the indexed text is Chinese characters (the rest Latin letters);
        None when it holds neither."""
        ...

    def dense(self, vector: np.ndarray, n: int) -> list[int]:
        """Chunk ids of the n nearest vectors, best first."""
        ...

    def keyword(self, tokens: Sequence[str], n: int) -> list[int]:
        """Chunk ids of the n best BM25 matches (none without a shared word), best first."""
        ...

    def coverage(self, tokens: Sequence[str]) -> float:
        """The share of the query's idf mass the corpus holds (TermStats.coverage)."""
        ...

    def rarity(self, token: str) -> float:
        """How rare a word is in this knowledge base, 0-1 (TermStats.rarity)."""
        ...

    def rows(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        """What a hit and its citation show, for those chunks that still exist."""
        ...


@dataclass(frozen=True)
class Snapshot:
    """The FAISS engine: everything a search reads, from one consistent generation of
    the catalog."""

    generation: int
    chunk_ids: list[int]
    vectors: Any  # faiss.Index, position i holding chunk_ids[i]
    keywords: KeywordIndex
    catalog: Catalog

    @property
    def size(self) -> int:
        return len(self.chunk_ids)

    @property
    def han_share(self) -> float | None:
        return self.keywords.han_share

    def dense(self, vector: np.ndarray, n: int) -> list[int]:
        _, positions = self.vectors.search(vector.reshape(1, -1), n)
        return [self.chunk_ids[p] for p in positions[0] if p >= 0]

    def keyword(self, tokens: Sequence[str], n: int) -> list[int]:
        return [self.chunk_ids[p] for p, _ in self.keywords.search(tokens, n)]

    def coverage(self, tokens: Sequence[str]) -> float:
        return self.keywords.coverage(tokens)

    def rarity(self, token: str) -> float:
        return self.keywords.rarity(token)

    def rows(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        return self.catalog.chunk_rows(ids)
