"""Does guessing ahead from the prompt speed up answers here? (issue 15)

    python benchmarks/speculative_decoding.py [--questions 12] [--tokens 120]

For the first answerable questions of the bundled eval set, the real answer prompt (the
retriever's passages, the pipeline's messages) is answered greedily by the bundled model
four ways in one process: llama-cpp-python's own loop (`create_chat_completion`, the
reference), our loop without guesses, and our loop reading guesses of 4 and 8 tokens
looked up in the prompt (rag/models/llm/llama_cpp_decoding.py). Each reads the prompt
from an empty cache in the same batches (read in other batches, the same prompt can
turn a near tie the other way). Prints, with the CPU,
how many answers are token-for-token the reference's, the time from the first piece to
the last (p50) and its ratio to no guesses, how many guessed tokens were kept; then what
reading a batch of 1-8 tokens costs against one token (guessing pays only where a batch
costs little more than one token).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.context import select_passages
from rag.answer.pipeline import answer_language
from rag.evaluation.dataset import load_dataset
from rag.evaluation.report import cpu_name
from rag.models.llm.base import Generation
from rag.models.llm.llama_cpp import LlamaCppChatModel
from rag.models.llm.llama_cpp_decoding import Drafting
from rag.service import RagService


def timed(pieces: Iterator[str]) -> tuple[str, float]:
    """The text and the seconds from its first piece to its last."""
    text, first = "", 0.0
    for piece in pieces:
        if not text:
            first = time.perf_counter()
        text += piece
    return text, time.perf_counter() - first if text else 0.0


def reference(llm: LlamaCppChatModel, messages: list[Any], tokens: int) -> Iterator[str]:
    llm.decoder.forget()
    cast(Any, llm._llm).reset()
    chunks = llm._llm.create_chat_completion(
        messages=messages, max_tokens=tokens, temperature=0.0, stream=True
    )
    for chunk in chunks:
        piece = chunk["choices"][0]["delta"].get("content")  # type: ignore[index]
        if piece:
            yield piece
    llm.decoder.forget()


def batch_costs(llm: LlamaCppChatModel) -> str:
    """Milliseconds to read a batch of n tokens after a 600-token prompt, p50 of 8."""
    decoder = llm.decoder
    prompt = llm._tokens("资料：" + "济南市推进新旧动能转换。" * 60)
    decoder._read_prompt(prompt)
    costs = {}
    for n in (1, 2, 4, 8):
        times = []
        for _ in range(8):
            started = time.perf_counter()
            decoder._decode(prompt[100 : 100 + n], len(prompt))
            times.append(time.perf_counter() - started)
            decoder._forget_from(len(prompt))
        costs[n] = statistics.median(times)
    return ", ".join(f"{n}: {costs[n] * 1000:.0f} ms ({costs[n] / costs[1]:.1f}x)" for n in costs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=120)
    args = parser.parse_args()
    service = RagService()
    llm = service.llm
    if not isinstance(llm, LlamaCppChatModel):
        sys.exit("this measures the llama.cpp backend (RAG_LLM_BACKEND=llama_cpp)")
    pipeline = service.answer_pipeline()
    settings = service.settings
    items = [it for it in load_dataset(Path("eval/jinan_qa.jsonl")) if it.answerable]
    modes = {"no guesses": 0, "guess 4": 4, "guess 8": 8}
    seconds: dict[str, list[float]] = {"llama-cpp-python": [], **{m: [] for m in modes}}
    same = dict.fromkeys(seconds, 0)
    kept = dict.fromkeys(modes, (0, 0))
    for item in items[: args.questions]:
        hits = service.search(item.question, settings.answer_passages)
        passages = select_passages(
            hits, item.question, settings.answer_passages, settings.answer_context_chars
        )
        messages = pipeline._messages(item.question, passages, answer_language(item.question))
        chat = [{"role": m.role, "content": m.content} for m in messages]
        ref, took = timed(reference(llm, chat, args.tokens))
        seconds["llama-cpp-python"].append(took)
        same["llama-cpp-python"] += 1
        for mode, n in modes.items():
            llm.decoder.forget()  # each reads the prompt as the reference did
            llm.decoder.drafting = Drafting(tokens=n)
            llm.decoder.drafted = llm.decoder.accepted = 0
            text, took = timed(llm.stream(messages, Generation(args.tokens)))
            seconds[mode].append(took)
            same[mode] += text == ref
            drafted, accepted = kept[mode]
            kept[mode] = (drafted + llm.decoder.drafted, accepted + llm.decoder.accepted)
            if text != ref:
                print(
                    f"  {item.id} {mode}: {text!r}\n  {'reference':>{len(item.id) + len(mode) + 1}}: {ref!r}"
                )
        print(f"{item.id} {ref!r}", flush=True)
    base = statistics.median(seconds["no guesses"])
    print(f"CPU: {cpu_name()}; {len(seconds['no guesses'])} questions, up to {args.tokens} tokens")
    for mode, times in seconds.items():
        drafted, accepted = kept.get(mode, (0, 0))
        guesses = f", guessed tokens kept {accepted}/{drafted}" if drafted else ""
        print(
            f"  {mode:17} first piece to last p50 {statistics.median(times):.2f} s "
            f"({base / statistics.median(times):.2f}x no guesses), same as reference "
            f"{same[mode]}/{len(times)}{guesses}"
        )
    print(f"  reading a batch of n tokens: {batch_costs(llm)}")


if __name__ == "__main__":
    main()
