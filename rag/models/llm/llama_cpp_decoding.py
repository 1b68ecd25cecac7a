"""Greedy decoding in a llama.cpp context, with drafts looked up in the prompt.

Answers copy numbers, names and phrases from their passages. When the last tokens
generated also occur earlier in the prompt or the answer, the tokens that followed them
there are a cheap guess at what comes next (prompt-lookup decoding). The guess is read
in one batch with the last token; the model's own greedy choice at every position says
how much of it to keep, so the tokens are the ones plain greedy decoding chooses. On
these CPUs generating is bound by reading the weights, and a batch of a few tokens
costs little more than one (benchmarks/speculative_decoding.py).

The context's cache is kept between calls: a prompt that starts as the last one did
(the system prompt, worked examples) is read only from where it differs.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SEQUENCE = 0  # the one sequence every prompt and answer lives in


@dataclass(frozen=True)
class Drafting:
    """How far to guess: up to `tokens` tokens after an earlier occurrence of the last
    `ngram` (down to `min_ngram`) tokens; `tokens` 0 turns guessing off."""

    tokens: int = 8
    ngram: int = 3
    min_ngram: int = 2


def draft(history: Sequence[int], how: Drafting) -> list[int]:
    """The tokens that followed the latest earlier occurrence of the longest tail of
    `history` (at least `how.min_ngram` tokens long), at most `how.tokens` of them."""
    if how.tokens <= 0:
        return []
    n = len(history)
    for size in range(min(how.ngram, n - 1), how.min_ngram - 1, -1):
        tail = list(history[n - size :])
        for start in range(n - size - 1, -1, -1):  # the latest occurrence reads best
            if list(history[start : start + size]) == tail:
                following = list(history[start + size : start + size + how.tokens])
                if following:
                    return following
    return []


class GreedyDecoder:
    """Reads prompts into one llama.cpp context and generates greedily from them.

    `llm` is a `llama_cpp.Llama`; only its context, model and batch size are used. Not
    thread-safe: the backend holds its lock around every call."""

    def __init__(self, llm: Any, drafting: Drafting):
        import llama_cpp
        from llama_cpp import _internals

        self._lib = llama_cpp
        self._llm = llm
        self._ctx = llm._ctx.ctx
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._n_batch = llm.n_batch
        self._n_ctx = llm.n_ctx()
        self._n_vocab = llm.n_vocab()
        self._batch = _internals.LlamaBatch(n_tokens=self._n_batch, embd=0, n_seq_max=1)
        self._cached: list[int] = []  # the tokens whose keys and values the cache holds
        self.drafting = drafting
        self.stop = {llm.token_eos()}
        self.drafted = self.accepted = 0  # guesses read and kept, for the benchmark

    def forget(self) -> None:
        """Empty the cache (someone else used the context)."""
        self._lib.llama_memory_clear(self._memory, True)
        self._cached = []

    def generate(
        self, prompt: Sequence[int], max_tokens: int, check: Callable[[], None]
    ) -> Iterator[str]:
        """Yield the greedy continuation of `prompt` as text, at most `max_tokens`
        tokens, stopping at a stop token; `check` is called between steps (and raises
        to stop)."""
        if len(prompt) >= self._n_ctx:
            raise ValueError(
                f"the prompt has {len(prompt)} tokens, the context {self._n_ctx}: shorten"
                " the passages (RAG_ANSWER_CONTEXT_CHARS) or raise RAG_LLM_CONTEXT_TOKENS"
            )
        max_tokens = min(max_tokens, self._n_ctx - len(prompt))  # as llama-cpp-python does
        logits = self._read_prompt(list(prompt))
        history = list(prompt)
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        produced = 0
        token = int(np.argmax(logits[-1]))
        while produced < max_tokens and token not in self.stop:
            check()
            guess = draft([*history, token], self.drafting)[: max_tokens - produced - 1]
            # the new token and the guess in one batch: the model's choice after each
            # position says whether the guess's next token was right
            logits = self._decode([token, *guess], len(history))
            choices = [int(np.argmax(row)) for row in logits]
            kept = 0
            while kept < len(guess) and choices[kept] == guess[kept]:
                kept += 1
            self.drafted += len(guess)
            self.accepted += kept
            accepted = [token, *guess[:kept]]
            self._forget_from(len(history) + len(accepted))  # the guesses that were wrong
            for t in accepted:
                if t in self.stop:
                    return
                piece = text.decode(self._llm.detokenize([t]))
                produced += 1
                if piece:
                    yield piece
            history += accepted
            token = choices[kept]
        tail = text.decode(b"", final=True)
        if tail:
            yield tail

    def _read_prompt(self, prompt: list[int]) -> np.ndarray:
        """Read what of `prompt` the cache does not hold yet; the logits after its last
        token. At least that last token is read again, for its logits."""
        same = 0
        for held, wanted in zip(self._cached, prompt, strict=False):
            if held != wanted:
                break
            same += 1
        same = min(same, len(prompt) - 1)
        self._forget_from(same)
        logits = np.empty((0, self._n_vocab), dtype=np.float32)
        for start in range(same, len(prompt), self._n_batch):
            logits = self._decode(prompt[start : start + self._n_batch], start, last_only=True)
        return logits

    def _decode(self, tokens: list[int], position: int, *, last_only: bool = False) -> np.ndarray:
        """Read `tokens` at `position` on; the logits after each (or after the last)."""
        b = self._batch.batch
        b.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            b.token[i], b.pos[i], b.n_seq_id[i] = token, position + i, 1
            b.seq_id[i][0] = SEQUENCE
            b.logits[i] = not last_only or i == len(tokens) - 1
        status = self._lib.llama_decode(self._ctx, b)
        if status != 0:
            self.forget()  # a failed or aborted batch leaves the cache unknown
            raise RuntimeError(f"llama_decode returned {status}")
        self._cached = self._cached[:position] + list(tokens)
        rows = [len(tokens) - 1] if last_only else range(len(tokens))
        out = np.empty((len(rows), self._n_vocab), dtype=np.float32)
        for j, i in enumerate(rows):
            pointer = self._lib.llama_get_logits_ith(self._ctx, i)
            out[j] = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))
        return out

    def _forget_from(self, position: int) -> None:
        if position < len(self._cached):
            self._lib.llama_memory_seq_rm(self._memory, SEQUENCE, position, -1)
            self._cached = self._cached[:position]
