"""BM25 over jieba tokens: catches exact names and numbers that embeddings blur."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.text.scripts import han_share


class KeywordIndex:
    def __init__(self, corpus_tokens: Sequence[Sequence[str]]):
        import bm25s

        self._size = len(corpus_tokens)
        # how much of the indexed text is in Chinese characters (the rest Latin letters)
        self.han_share = han_share(tok for toks in corpus_tokens for tok in toks)
        self._bm25 = bm25s.BM25()
        if self._size:
            # bm25s wants at least one token per document
            docs = [list(toks) or ["\u2205"] for toks in corpus_tokens]
            self._bm25.index(docs, show_progress=False)

    def search(self, query_tokens: Sequence[str], n: int) -> list[tuple[int, float]]:
        """(position in the corpus, score) for the best n, best first; zero scores left out."""
        if not self._size or not query_tokens:
            return []
        scores = self._bm25.get_scores(list(query_tokens))
        top = np.argsort(-scores)[:n]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
