"""Answers from passages read in advance against answers that read them (issue 15).

    python benchmarks/passage_states.py [--set eval/jinan_qa.jsonl] [--kb jinan]
        [--questions 0] [--passages 5] [--chars 1500]

In one process, with the bundled model in llama.cpp, the answer pipeline (retrieval,
evidence check, generation, citation checks) answers the eval set's questions two ways,
one after the other for each question, on the same whole passages (RAG_PASSAGE_STATES's
selection: chunks never cut to the question):
- plain: the passages read with the question, as without passage states;
- states: each passage's stored state joined to the prompt; only the passages'
  numbers and the question read (rag/models/llm/llama_cpp.py stream_passages).
First the knowledge base's states are built (`rag kb states`): the time a passage
takes and the disk a thousand chunks take. Then prints, with the CPU, first-token and
full-answer p50/p95 of both ways and their ratio, the answers right (the eval's key
strings, not refused) and the answers identical between the two ways: what reading
passages independently of each other costs, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.pipeline import AnswerPipeline
from rag.evaluation.dataset import load_dataset
from rag.evaluation.metrics import contains_all
from rag.evaluation.report import cpu_name
from rag.service import RagService
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=Path("eval/jinan_qa.jsonl"))
    parser.add_argument("--kb", help="default: the settings' knowledge base (jinan)")
    parser.add_argument("--questions", type=int, default=0, help="0: every answerable one")
    parser.add_argument("--passages", type=int, default=5)
    parser.add_argument("--chars", type=int, default=1500, help="the passages' budget")
    args = parser.parse_args()
    settings = Settings(
        passage_states=True,
        answer_passages=args.passages,
        answer_context_chars=args.chars,
        suggest_questions=False,
    )
    service = RagService(settings)
    args.kb = args.kb or settings.kb
    kb = KnowledgeBase.open_existing(settings, args.kb)

    started = time.perf_counter()
    read, chunks = service.build_passage_states(args.kb, progress=True)
    build_s = time.perf_counter() - started
    states = service.passage_states(kb)
    assert states is not None, "passage states need the llama_cpp backend"
    size = states.size_bytes()

    with_states = service.answer_pipeline(args.kb)
    plain = AnswerPipeline(
        with_states.retriever, with_states.llm, with_states.prompts, with_states.settings, None
    )
    items = [it for it in load_dataset(args.set) if it.answerable]
    items = items[: args.questions] if args.questions else items
    plain.answer(items[0].question)  # warm: the prefix read, the caches filled
    first: dict[str, list[float]] = {"plain": [], "states": []}
    total: dict[str, list[float]] = {"plain": [], "states": []}
    right = {"plain": 0, "states": 0}
    same = generated = 0
    for item in items:
        texts = {}
        for way, pipeline in (("plain", plain), ("states", with_states)):
            answer = pipeline.answer(item.question)
            texts[way] = answer.text
            right[way] += not answer.refused and contains_all(answer.text, item.must_contain)
            if "raw" in answer.evidence:  # generated, not refused before generating
                first[way].append(answer.timings["first_token_ms"] / 1000)
                total[way].append(answer.timings["total_ms"] / 1000)
        if "raw" in answer.evidence:
            generated += 1
        same += texts["plain"] == texts["states"]
        print(
            f"{item.id}: plain {first['plain'][-1] if first['plain'] else 0:.2f} s "
            f"states {first['states'][-1] if first['states'] else 0:.2f} s\n"
            f"  plain:  {texts['plain'][:120]!r}\n  states: {texts['states'][:120]!r}",
            flush=True,
        )

    print(f"\nCPU: {cpu_name()}")
    built = (
        f"{read} read in {build_s:.0f} s ({build_s / read:.2f} s a passage)"
        if read
        else "all stored"
    )
    print(
        f"states of {chunks} chunks: {built}, {size / 2**20:.0f} MB on disk "
        f"({size / max(chunks, 1) * 1000 / 2**20:.0f} MB per 1,000 chunks)"
    )
    print(
        f"{len(items)} questions ({args.set.name}), {generated} generated; "
        f"{args.passages} whole passages within {args.chars} characters"
    )
    for name, values in (("first token", first), ("full answer", total)):
        p, s = values["plain"], values["states"]
        if not p or not s:
            continue
        print(
            f"  {name}: plain p50 {statistics.median(p):.2f} s p95 {percentile(p, 0.95):.2f} s;"
            f" states p50 {statistics.median(s):.2f} s p95 {percentile(s, 0.95):.2f} s;"
            f" {statistics.median(p) / statistics.median(s):.1f}x sooner at p50"
        )
    print(
        f"  right: plain {right['plain']}, states {right['states']} of {len(items)}; "
        f"identical answers {same}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KB on Linux
    print(f"  peak memory of this process: {peak:.2f} GB")


if __name__ == "__main__":
    main()
