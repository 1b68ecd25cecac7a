"""BM25 over jieba tokens: catches exact names and numbers that embeddings blur."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rag.text.scripts import han_share


class TermStats:
    """What a word's document frequency says, whichever engine counts it: `df` and
    `size` come from the subclass (an in-memory index, or a Milvus collection)."""

    size: int

    def df(self, token: str) -> int:
        raise NotImplementedError

    def idf(self, token: str) -> float:
        """Lucene's BM25 idf: how much finding this token says (most for an absent one)."""
        df = self.df(token)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def rarity(self, token: str) -> float:
        """idf over the idf of a token the corpus lacks, 0-1: words in most chunks (the
        place or product every document is about) near 0, rare and absent ones 1."""
        absent = math.log(1 + (self.size + 0.5) / 0.5)
        return self.idf(token) / absent

    def coverage(self, query_tokens: Sequence[str]) -> float:
        """The share of the query's idf mass that occurs in the corpus at all: near 1 when
        BM25 can match the query's telling words, near 0 when they are not in the text
        (a Chinese question over English pages, words the documents never use)."""
        weights = [(self.idf(tok), self.df(tok) > 0) for tok in set(query_tokens)]
        total = sum(w for w, _ in weights)
        return sum(w for w, found in weights if found) / total if total else 0.0


class KeywordIndex(TermStats):
    def __init__(self, corpus_tokens: Sequence[Sequence[str]]):
        import bm25s

        self.size = len(corpus_tokens)
        # how much of the indexed text is in Chinese characters (the rest Latin letters)
        self.han_share = han_share(tok for toks in corpus_tokens for tok in toks)
        self._df = Counter(tok for toks in corpus_tokens for tok in set(toks))
        self._bm25 = bm25s.BM25()
        if self.size:
            # bm25s wants at least one token per document
            docs = [list(toks) or ["\u2205"] for toks in corpus_tokens]
            self._bm25.index(docs, show_progress=False)

    def df(self, token: str) -> int:
        return self._df.get(token, 0)

    def search(self, query_tokens: Sequence[str], n: int) -> list[tuple[int, float]]:
        """(position in the corpus, score) for the best n, best first; zero scores left out."""
        if not self.size or not query_tokens:
            return []
        scores = self._bm25.get_scores(list(query_tokens))
        top = np.argsort(-scores)[:n]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
