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
import ctypes
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SEQUENCE = 0  # the sequence every prompt and answer lives in
ASIDE = 1  # where a passage's state is restored before it joins the answer's
PIECES = 2  # the first of the sequences a joined prompt's pieces are read in
MAX_PIECES = 32
SEQUENCES = PIECES + MAX_PIECES  # the context must be made with this many
JOINED = -1  # a cached position whose state was joined, never equal to a token


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
        self.check_length(len(prompt))
        logits = self._read_prompt(list(prompt))
        yield from self.continue_from(logits[-1], prompt, max_tokens, check)

    def check_length(self, n_tokens: int) -> None:
        if n_tokens >= self._n_ctx:
            raise ValueError(
                f"the prompt has {n_tokens} tokens, the context {self._n_ctx}: shorten"
                " the passages (RAG_ANSWER_CONTEXT_CHARS) or raise RAG_LLM_CONTEXT_TOKENS"
            )

    def continue_from(
        self,
        logits: np.ndarray,
        prompt: Sequence[int],
        max_tokens: int,
        check: Callable[[], None],
    ) -> Iterator[str]:
        """Generate after a prompt the cache holds whole; `logits` are those after its
        last token."""
        max_tokens = min(max_tokens, self._n_ctx - len(prompt))  # as llama-cpp-python does
        history = list(prompt)
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        produced = 0
        token = int(np.argmax(logits))
        while produced < max_tokens and token not in self.stop:
            check()
            guess = draft([*history, token], self.drafting)[: max_tokens - produced - 1]
            # the new token and the guess in one batch: the model's choice after each
            # position says whether the guess's next token was right
            logits_rows = self._decode([token, *guess], len(history))
            choices = [int(np.argmax(row)) for row in logits_rows]
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

    # ------------------------------------------------------------ passages read alone
    # A passage's tokens read once after the prompt's prefix, in a sequence of their
    # own, give a state that can be put after the same prefix in any later prompt, at
    # any position (llama.cpp turns the keys' rotary positions): rag.store.passage_states.

    @property
    def held(self) -> int:
        """How many positions of the answer sequence the cache holds."""
        return len(self._cached)

    def hold_only(self, prefix: Sequence[int]) -> None:
        """Make the answer sequence hold `prefix` and nothing after it (reading only
        what the cache does not hold yet)."""
        same = 0
        for held, wanted in zip(self._cached, prefix, strict=False):
            if held != wanted:
                break
            same += 1
        self._forget_from(same)
        for start in range(same, len(prefix), self._n_batch):
            self._decode(list(prefix[start : start + self._n_batch]), start, last_only=True)

    def append(self, tokens: Sequence[int]) -> np.ndarray:
        """Read `tokens` after what the answer sequence holds; the logits after the last."""
        logits = np.empty((0, self._n_vocab), dtype=np.float32)
        for start in range(0, len(tokens), self._n_batch):
            chunk = list(tokens[start : start + self._n_batch])
            logits = self._decode(chunk, len(self._cached), last_only=True)
        last: np.ndarray = logits[-1]  # (no tokens: IndexError, a caller's mistake)
        return last

    def read_alone(self, passages: Sequence[Sequence[int]], after: int) -> list[bytes]:
        """Read each passage as if right after the first `after` tokens the answer
        sequence holds, seeing nothing else; the states of just the passages' tokens.
        Passages are read together, each in a sequence of its own, in batches of up
        to n_batch tokens: a batch of 512 tokens reads twice as fast per token as one
        of 128 here (benchmarks/passage_states.py)."""
        states: list[bytes] = []
        group: list[Sequence[int]] = []
        for tokens in passages:
            size = sum(len(t) for t in group) + len(tokens)
            if group and (size > self._n_batch or len(group) == MAX_PIECES):
                states += self._read_group(group, after)
                group = []
            group.append(tokens)
        if group:
            states += self._read_group(group, after)
        return states

    def _read_group(self, group: Sequence[Sequence[int]], after: int) -> list[bytes]:
        lib, mem = self._lib, self._memory
        seqs = [PIECES + j for j in range(len(group))]
        for seq in seqs:
            lib.llama_memory_seq_cp(mem, SEQUENCE, seq, 0, after)
        try:
            if len(group) == 1:  # alone, it may be longer than a batch
                for start in range(0, len(group[0]), self._n_batch):
                    chunk = list(group[0][start : start + self._n_batch])
                    self._decode(chunk, after + start, last_only=True, seq=seqs[0])
            else:
                self._decode_many(
                    [
                        (t, after + j, seq)
                        for seq, ts in zip(seqs, group, strict=True)
                        for j, t in enumerate(ts)
                    ]
                )
            states = []
            for seq in seqs:
                lib.llama_memory_seq_rm(mem, seq, 0, after)  # keep the passage, not the prefix
                size = lib.llama_state_seq_get_size(self._ctx, seq)
                buffer = (ctypes.c_uint8 * size)()
                written = lib.llama_state_seq_get_data(self._ctx, buffer, size, seq)
                states.append(bytes(buffer)[:written])
            return states
        finally:
            for seq in seqs:
                lib.llama_memory_seq_rm(mem, seq, -1, -1)

    def _decode_many(self, tokens: Sequence[tuple[int, int, int]]) -> np.ndarray:
        """Read (token, position, sequence) triples in one batch; the logits after the
        last."""
        b = self._batch.batch
        b.n_tokens = len(tokens)
        for k, (token, pos, seq) in enumerate(tokens):
            b.token[k], b.pos[k], b.n_seq_id[k], b.logits[k] = token, pos, 1, False
            b.seq_id[k][0] = seq
        b.logits[len(tokens) - 1] = True
        if (status := self._lib.llama_decode(self._ctx, b)) != 0:
            self.forget()
            raise RuntimeError(f"llama_decode returned {status}")
        pointer = self._lib.llama_get_logits_ith(self._ctx, len(tokens) - 1)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).copy()

    def join(
        self,
        pieces: Sequence[tuple[Sequence[int], bytes, int]],
        read_at: int,
        then: Sequence[int],
    ) -> np.ndarray:
        """After what the answer sequence holds, put each piece: a few tokens to read
        (a passage's number) and a passage's state (from `read_alone` after `read_at`
        tokens, `n` tokens long); then read `then` (the question); the logits after it.

        The states are joined first and turned to their places. Then the pieces' tokens
        and `then` are read in one batch: on these CPUs a batch of 60 tokens costs what
        one of 4 costs twice (benchmarks/passage_states.py). A batch may only extend a
        sequence at its end, so each piece's tokens are read in a sequence of their own
        that holds what comes before them, and `then` does not see them (the answer
        does)."""
        if len(pieces) > MAX_PIECES:
            raise ValueError(f"at most {MAX_PIECES} passages can be joined, not {len(pieces)}")
        numbers = sum(len(t) for t, _, _ in pieces)
        if not then or numbers >= self._n_batch:
            raise ValueError("the passages' numbers and the question must fit a batch")
        then, after = then[: self._n_batch - numbers], then[self._n_batch - numbers :]
        lib, mem = self._lib, self._memory
        position, starts = len(self._cached), []
        for tokens, state, n in pieces:
            starts.append(position)
            position += len(tokens)
            self._restore(state, read_at, n, position)
            position += n
        self._cached += [JOINED] * (position - len(self._cached))
        batch: list[tuple[int, int, int]] = []
        for i, ((tokens, _, _), start) in enumerate(zip(pieces, starts, strict=True)):
            lib.llama_memory_seq_cp(mem, SEQUENCE, PIECES + i, 0, start)
            batch += [(t, start + j, PIECES + i) for j, t in enumerate(tokens)]
        batch += [(t, position + j, SEQUENCE) for j, t in enumerate(then)]
        try:
            logits = self._decode_many(batch)
            for i, ((tokens, _, _), start) in enumerate(zip(pieces, starts, strict=True)):
                lib.llama_memory_seq_cp(mem, PIECES + i, SEQUENCE, start, start + len(tokens))
        finally:
            for i in range(len(pieces)):
                lib.llama_memory_seq_rm(mem, PIECES + i, -1, -1)
        self._cached += list(then)
        return self.append(after) if after else logits

    def _restore(self, state: bytes, read_at: int, n_tokens: int, position: int) -> None:
        """A passage's state into the answer sequence at `position`."""
        lib, mem = self._lib, self._memory
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        try:
            if lib.llama_state_seq_set_data(self._ctx, buffer, len(state), ASIDE) == 0:
                self.forget()
                raise RuntimeError("llama.cpp could not restore a passage state")
            end = read_at + n_tokens
            lib.llama_memory_seq_add(mem, ASIDE, read_at, end, position - read_at)
            lib.llama_memory_seq_cp(mem, ASIDE, SEQUENCE, position, position + n_tokens)
        finally:
            lib.llama_memory_seq_rm(mem, ASIDE, -1, -1)

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

    def _decode(
        self, tokens: list[int], position: int, *, last_only: bool = False, seq: int = SEQUENCE
    ) -> np.ndarray:
        """Read `tokens` at `position` on; the logits after each (or after the last)."""
        b = self._batch.batch
        b.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            b.token[i], b.pos[i], b.n_seq_id[i] = token, position + i, 1
            b.seq_id[i][0] = seq
            b.logits[i] = not last_only or i == len(tokens) - 1
        status = self._lib.llama_decode(self._ctx, b)
        if status != 0:
            self.forget()  # a failed or aborted batch leaves the cache unknown
            raise RuntimeError(f"llama_decode returned {status}")
        if seq == SEQUENCE:
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
