"""llama.cpp prompt and generation speed with and without weight repacking.

    python benchmarks/bench_llama_speed.py [--rounds 3]

Each round loads the bundled GGUF in a fresh process once with llama.cpp's repacked
Q4_K weights and once without, alternating so that a noisy neighbour hits both alike.
A process evaluates a ~330-token Chinese prompt three times (tokens/s, median) and then
generates 40 tokens after the first (tokens/s). Prints medians over the rounds and the
ratio; `llm_repack` in rag/settings.py follows what this says.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

PROMPT = (
    "济南市加快建设工业强市三年行动计划，到2025年规上工业企业研发投入占营业收入比重达到2.2%以上。"
)


def measure(repack: bool) -> dict[str, float]:
    from rag.models.llm.bundled_qwen import ensure_bundled_gguf
    from rag.models.llm.llama_cpp import LlamaCppChatModel
    from rag.settings import Settings

    model = LlamaCppChatModel(
        ensure_bundled_gguf(Settings().cache_dir, progress=False), n_ctx=2048, repack=repack
    )
    return llama_speed(model._llm)


def llama_speed(llm: Any) -> dict[str, float]:
    """Prompt tokens/s (median of 3 evaluations) and generated tokens/s after the first."""
    tokens = llm.tokenize((PROMPT * 12).encode())
    prompt = []
    for _ in range(3):
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        prompt.append(len(tokens) / (time.perf_counter() - started))
    started = 0.0
    for n, _ in enumerate(llm.generate(tokens, temp=0.0, reset=True), start=1):
        if n == 1:  # from the first token on: generation only
            started = time.perf_counter()
        if n > 40:
            break
    return {
        "prompt_tokens_per_s": statistics.median(prompt),
        "generation_tokens_per_s": 40 / (time.perf_counter() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["repack", "plain"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child == "repack")))
        return
    runs: dict[str, list[dict[str, float]]] = {"repack": [], "plain": []}
    for _ in range(args.rounds):
        for mode in runs:
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode],
                check=True,
                capture_output=True,
                text=True,
            )
            runs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
    result: dict[str, object] = {"machine": f"{os.cpu_count()} cores", "rounds": args.rounds}
    for mode, rows in runs.items():
        for key in ("prompt_tokens_per_s", "generation_tokens_per_s"):
            result[f"{mode}_{key}"] = round(statistics.median(r[key] for r in rows), 1)
    for key in ("prompt_tokens_per_s", "generation_tokens_per_s"):
        result[f"plain_over_repack_{key}"] = round(
            float(result[f"plain_{key}"]) / float(result[f"repack_{key}"]),
            2,  # type: ignore[arg-type]
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
