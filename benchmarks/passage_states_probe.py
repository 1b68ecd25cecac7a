"""Issue 15's first measurement: can an answer start from passages read in advance?

    python benchmarks/passage_states_probe.py [--questions 20] [--tokens 48] [--fresh 16]

For the first answerable questions of the bundled eval set, with the real retriever and
the bundled model in llama.cpp (one context, two sequences, unified KV cache, weights
not repacked), the same prompt tokens are answered three ways, greedy:
- plain: the passages and the question read in one go after the prefix (the system turn
  and the user turn's opening, read once and kept), with full attention;
- assembled: each passage block read once after the prefix in sequence 1, the prefix
  removed from it and its KV state saved (`llama_state_seq_get_data`: the "build"); at
  question time each state restored into sequence 1, shifted to its place
  (`llama_memory_seq_add`) and copied into sequence 0, then only the question and the
  instructions after the passages read;
- the same, with each passage's first `--fresh` tokens read again in place with full
  attention (they saw only the prefix when built).
Passages come before the question here (today's template asks the question first, which
no state computed in advance could have seen). Prints each answer, then per way the
first-token p50 and its ratio to plain, the answers right by the eval's key strings and
those identical to plain (what reading passages independently costs), the build time
per passage and the state size per token, with the CPU.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.context import select_passages
from rag.answer.pipeline import Prompts, answer_language
from rag.evaluation.dataset import load_dataset
from rag.evaluation.metrics import contains_all
from rag.evaluation.report import cpu_name
from rag.service import RagService

PREFIX, PASSAGE, ANSWER = 0, 1, 0  # sequence ids: the answer grows on the prefix's


class Model:
    """The bundled GGUF in one llama.cpp context with two sequences."""

    def __init__(self, path: Path, n_ctx: int = 4096, n_batch: int = 2048):
        import llama_cpp
        import llama_cpp.llama_cpp as lib
        from llama_cpp import _internals

        from rag.models.llm.llama_cpp import _weight_repacking

        defaults = lib.llama_context_default_params

        def params() -> Any:
            p = defaults()
            p.n_seq_max, p.kv_unified = 2, True
            return p

        lib.llama_context_default_params = params
        try:
            with _weight_repacking(False):
                self.llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_batch=n_batch,
                    n_ubatch=512,
                    n_threads=2,
                    n_threads_batch=2,
                    flash_attn=True,
                    verbose=False,
                )
        finally:
            lib.llama_context_default_params = defaults
        self.lib = lib
        self.ctx = self.llm._ctx.ctx
        self.memory = lib.llama_get_memory(self.ctx)
        self.batch = _internals.LlamaBatch(n_tokens=n_batch, embd=0, n_seq_max=2)
        self.n_vocab = self.llm.n_vocab()
        self.stop = {self.llm.token_eos(), *self.tokens("<|im_end|>")}

    def tokens(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def decode(self, tokens: list[int], pos: int, seq: int) -> np.ndarray:
        """Decode tokens at positions pos.. in seq; the logits after the last one."""
        b = self.batch.batch
        b.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos + i, 1, False
            b.seq_id[i][0] = seq
        b.logits[len(tokens) - 1] = True
        if self.lib.llama_decode(self.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")
        logits = self.lib.llama_get_logits_ith(self.ctx, len(tokens) - 1)
        return np.ctypeslib.as_array(logits, shape=(self.n_vocab,)).copy()

    def generate(self, logits: np.ndarray, pos: int, n: int) -> tuple[list[int], float]:
        """Greedy tokens in the answer sequence; seconds until the first was chosen."""
        first = time.perf_counter()
        out: list[int] = []
        for _ in range(n):
            token = int(np.argmax(logits))
            if not out:
                first = time.perf_counter()
            if token in self.stop:
                break
            out.append(token)
            logits = self.decode([token], pos, ANSWER)
            pos += 1
        return out, first

    def remove(self, seq: int, p0: int = -1, p1: int = -1) -> None:
        self.lib.llama_memory_seq_rm(self.memory, seq, p0, p1)

    def save(self, seq: int) -> bytes:
        size = self.lib.llama_state_seq_get_size(self.ctx, seq)
        buffer = (ctypes.c_uint8 * size)()
        written = self.lib.llama_state_seq_get_data(self.ctx, buffer, size, seq)
        return bytes(buffer[:written])

    def restore(self, state: bytes, seq: int) -> None:
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if self.lib.llama_state_seq_set_data(self.ctx, buffer, len(state), seq) == 0:
            raise RuntimeError("llama_state_seq_set_data failed")


def prefix_text(prompts: Prompts) -> str:
    """What every answer prompt starts with: the system turn and the user turn's opening."""
    return f"<|im_start|>system\n{prompts.system}<|im_end|>\n<|im_start|>user\n资料：\n"


def tail_text(question: str) -> str:
    """What follows the passages: the question and how to answer, then the reply opens."""
    language = answer_language(question)
    return (
        f"问题：{question}\n请用{language}简短回答，并在句末标注资料编号。"
        "<|im_end|>\n<|im_start|>assistant\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--fresh", type=int, default=16, help="tokens of a passage re-read")
    args = parser.parse_args()
    service = RagService()
    settings = service.settings
    prompts = Prompts.load(settings.prompts_dir)
    from rag.models.llm.bundled_qwen import ensure_bundled_gguf

    model = Model(ensure_bundled_gguf(settings.cache_dir, progress=False))
    items = [it for it in load_dataset(Path("eval/jinan_qa.jsonl")) if it.answerable]
    prefix = model.tokens(prefix_text(prompts))
    model.decode(prefix, 0, PREFIX)  # read once, kept for every question
    P = len(prefix)
    waits: dict[str, list[float]] = {}
    right: dict[str, int] = {}
    same: dict[str, int] = {}
    build_s: list[float] = []
    state_bytes = state_tokens = 0
    for item in items[: args.questions]:
        hits = service.search(item.question, settings.answer_passages)
        passages = select_passages(
            hits, item.question, settings.answer_passages, settings.answer_context_chars
        )
        blocks = [model.tokens(p.prompt_block() + "\n\n") for p in passages]
        tail = model.tokens(tail_text(item.question))

        # plain: everything after the prefix read in one go, with full attention
        answers: dict[str, str] = {}
        body = [t for block in blocks for t in block] + tail
        started = time.perf_counter()
        logits = model.decode(body, P, ANSWER)
        tokens, first = model.generate(logits, P + len(body), args.tokens)
        answers["plain"] = model.llm.detokenize(tokens).decode(errors="replace")
        waits.setdefault("plain", []).append(first - started)
        model.remove(ANSWER, P, -1)

        # build: each passage read once after the prefix, its state kept without it
        states = []
        for block in blocks:
            started = time.perf_counter()
            model.lib.llama_memory_seq_cp(model.memory, PREFIX, PASSAGE, 0, P)
            model.decode(block, P, PASSAGE)
            model.remove(PASSAGE, 0, P)
            states.append((model.save(PASSAGE), len(block)))
            model.remove(PASSAGE)
            build_s.append(time.perf_counter() - started)
            state_bytes += len(states[-1][0])
            state_tokens += len(block)

        # assembled: restore, shift into place, join; read only the tail. With `fresh`,
        # each passage's first tokens are then read again with full attention (they saw
        # only the prefix when built: the cheap remedy the literature suggests)
        for mode, fresh in (("assembled", 0), (f"assembled, {args.fresh} re-read", args.fresh)):
            started = time.perf_counter()
            pos = P
            for (state, length), block in zip(states, blocks, strict=True):
                # positions in a sequence only grow: the re-read opening goes in first,
                # then the rest of the state (llama.cpp refuses to decode behind them)
                ahead = min(fresh, length)
                if ahead:
                    model.decode(block[:ahead], pos, ANSWER)
                model.restore(state, PASSAGE)
                model.remove(PASSAGE, P, P + ahead)
                model.lib.llama_memory_seq_add(model.memory, PASSAGE, P, P + length, pos - P)
                model.lib.llama_memory_seq_cp(
                    model.memory, PASSAGE, ANSWER, pos + ahead, pos + length
                )
                model.remove(PASSAGE)
                pos += length
            logits = model.decode(tail, pos, ANSWER)
            tokens, first = model.generate(logits, pos + len(tail), args.tokens)
            answers[mode] = model.llm.detokenize(tokens).decode(errors="replace")
            waits.setdefault(mode, []).append(first - started)
            model.remove(ANSWER, P, -1)

        for mode, answer in answers.items():
            right.setdefault(mode, 0)
            right[mode] += contains_all(answer, item.must_contain)
            same.setdefault(mode, 0)
            same[mode] += answer == answers["plain"]
        print(f"{item.id} {item.must_contain}", flush=True)
        for mode, answer in answers.items():
            print(f"  {mode:22} {waits[mode][-1]:5.2f} s  {answer!r}", flush=True)
    print(f"CPU: {cpu_name()}; {len(waits['plain'])} questions, prefix {P} tokens")
    for mode, times in waits.items():
        print(
            f"  {mode:22} first token p50 {statistics.median(times):.2f} s "
            f"({statistics.median(waits['plain']) / statistics.median(times):.1f}x plain), "
            f"right {right[mode]}, same answer as plain {same[mode]}"
        )
    print(
        f"  build {statistics.median(build_s):.2f} s a passage (p50), state "
        f"{state_bytes / state_tokens / 1024:.1f} KB a token (f16 KV)"
    )


if __name__ == "__main__":
    main()
