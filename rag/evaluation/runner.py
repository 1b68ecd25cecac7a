"""Run an eval set through the assistant and score every item."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tqdm import tqdm

from rag.evaluation import metrics as m
from rag.evaluation.dataset import EvalItem
from rag.types import SearchHit

HIT_KS = (1, 3, 5, 10)
RETRIEVE_K = max(HIT_KS)

#: question -> {"answer", "citations": [{source, start, end, text}], "refused", "timings"}
AnswerFn = Callable[[str], dict[str, Any]]
SearchFn = Callable[[str, int], list[SearchHit]]


@dataclass
class ItemResult:
    id: str
    question: str
    type: str
    difficulty: str
    sources: list[str]
    gold_answer: str
    must_contain: list[str]
    retrieved: list[dict[str, Any]]
    evidence_rank: int | None  # first passage holding any evidence
    all_evidence_rank: int | None  # rank by which every evidence has been seen
    timings: dict[str, float] = field(default_factory=dict)
    answer: str | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)
    refused: bool | None = None
    refusal_reason: str | None = None  # which check withdrew the answer
    answer_correct: bool | None = None
    char_f1: float | None = None
    rouge_l: float | None = None
    citations_supported: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def failed(self) -> bool:
        if self.type == "unanswerable":
            return self.refused is False
        missed_retrieval = self.evidence_rank is None or self.evidence_rank > 5
        return missed_retrieval or self.answer_correct is False or bool(self.refused)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class EvidenceLocator:
    """Where each evidence string sits in the indexed documents, by file name."""

    def __init__(self, texts_by_source: dict[str, str]):
        self._texts = texts_by_source

    def spans(self, item: EvalItem) -> list[tuple[str, list[tuple[int, int]]]]:
        return [
            (ev.source, m.spans_of(ev.text, self._texts.get(ev.source, ""))) for ev in item.evidence
        ]

    def missing_sources(self, items: Sequence[EvalItem]) -> set[str]:
        return {ev.source for it in items for ev in it.evidence if ev.source not in self._texts}


Evidence = list[tuple[str, list[tuple[int, int]]]]  # (source, spans) per evidence string


def _matches(source: str, start: int, end: int, evidence: Evidence) -> list[int]:
    return [
        i
        for i, (ev_source, spans) in enumerate(evidence)
        if ev_source == source and any(m.covers((start, end), span) for span in spans)
    ]


def score_retrieval(
    hits: Sequence[SearchHit], evidence: Evidence
) -> tuple[list[dict[str, Any]], int | None, int | None]:
    retrieved: list[dict[str, Any]] = []
    seen: set[int] = set()
    all_rank: int | None = None
    for hit in hits:
        found = _matches(hit.source, hit.start, hit.end, evidence)
        seen.update(found)
        if evidence and all_rank is None and len(seen) == len(evidence):
            all_rank = hit.rank
        retrieved.append({**hit.to_json(), "holds_evidence": found})
    first = m.first_rank([bool(r["holds_evidence"]) for r in retrieved])
    return retrieved, first, all_rank


def _score_answer(
    result: ItemResult, item: EvalItem, evidence: Evidence, reply: dict[str, Any]
) -> None:
    result.answer = reply["answer"]
    result.refused = bool(reply["refused"])
    result.refusal_reason = reply.get("refusal_reason")
    result.citations = reply.get("citations", [])
    result.evidence = reply.get("evidence", {})
    result.timings.update(reply.get("timings", {}))
    if not item.answerable:
        return
    result.answer_correct = not result.refused and m.contains_all(
        result.answer or "", item.must_contain
    )
    result.char_f1 = round(m.char_f1(result.answer or "", item.answer), 4)
    result.rouge_l = round(m.rouge_l(result.answer or "", item.answer), 4)
    result.citations_supported = sum(
        1
        for c in result.citations
        if _matches(c["source"], c["start"], c["end"], evidence)
        or any(m.normalise(s) in m.normalise(c.get("text", "")) for s in item.must_contain)
    )


def run_items(
    items: Sequence[EvalItem],
    search: SearchFn,
    locator: EvidenceLocator,
    answer: AnswerFn | None = None,
    progress: bool = True,
) -> list[ItemResult]:
    results = []
    for item in tqdm(
        items, desc="Evaluating", unit="question", disable=not progress, file=sys.stderr
    ):
        evidence = locator.spans(item)
        started = time.perf_counter()
        hits = search(item.question, RETRIEVE_K)
        retrieve_ms = (time.perf_counter() - started) * 1000
        retrieved, first, all_rank = score_retrieval(hits, evidence)
        result = ItemResult(
            id=item.id,
            question=item.question,
            type=item.type,
            difficulty=item.difficulty,
            sources=item.sources,
            gold_answer=item.answer,
            must_contain=list(item.must_contain),
            retrieved=retrieved,
            evidence_rank=first,
            all_evidence_rank=all_rank,
            timings={"search_ms": round(retrieve_ms, 1)},
        )
        if answer is not None:
            _score_answer(result, item, evidence, answer(item.question))
        results.append(result)
    return results


# --------------------------------------------------------------------------- summaries


def summarise(results: Sequence[ItemResult]) -> dict[str, Any]:
    summary = _metrics(results)
    summary["by_type"] = _grouped(results, lambda r: [r.type])
    summary["by_source"] = _grouped(results, lambda r: r.sources or ["(none)"])
    summary["by_difficulty"] = _grouped(results, lambda r: [r.difficulty])
    return summary


def _grouped(
    results: Sequence[ItemResult], keys: Callable[[ItemResult], list[str]]
) -> dict[str, Any]:
    groups: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        for key in keys(r):
            groups[key].append(r)
    return {key: _metrics(group) for key, group in sorted(groups.items())}


def _metrics(results: Sequence[ItemResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.type != "unanswerable"]
    out: dict[str, Any] = {"items": len(results), "answerable": len(answerable)}
    if answerable:
        ranks = [r.evidence_rank for r in answerable]
        for k in HIT_KS:
            out[f"hit@{k}"] = m.mean([m.hit_at(rank, k) for rank in ranks])
        out["mrr"] = m.mean([m.reciprocal_rank(rank) for rank in ranks])
        multi = [
            r for r in answerable if len(r.sources) > 1 or r.type in ("multi_hop", "comparison")
        ]
        if multi:
            out["all_evidence@5"] = m.mean([m.hit_at(r.all_evidence_rank, 5) for r in multi])
    answered = [r for r in results if r.answer is not None]
    if answered:
        out.update(_answer_metrics(answered))
    out["latency_ms"] = _latencies(results)
    return out


def _answer_metrics(answered: Sequence[ItemResult]) -> dict[str, Any]:
    ok = [r for r in answered if r.type != "unanswerable"]
    no = [r for r in answered if r.type == "unanswerable"]
    out: dict[str, Any] = {}
    if ok:
        out["answer_accuracy"] = m.mean([float(bool(r.answer_correct)) for r in ok])
        out["char_f1"] = m.mean([r.char_f1 or 0.0 for r in ok])
        out["rouge_l"] = m.mean([r.rouge_l or 0.0 for r in ok])
        out["false_refusal_rate"] = m.mean([float(bool(r.refused)) for r in ok])
        cited = sum(len(r.citations) for r in ok)
        supported = sum(r.citations_supported or 0 for r in ok)
        out["citation_precision"] = round(supported / cited, 4) if cited else None
        out["citations"] = cited
    if no:
        out["refusal_rate"] = m.mean([float(bool(r.refused)) for r in no])
    return out


def _latencies(results: Sequence[ItemResult]) -> dict[str, dict[str, float | None]]:
    stages: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for stage, ms in r.timings.items():
            if ms is not None:
                stages[stage].append(ms)
    return {
        s: {"p50": m.percentile(v, 50), "p95": m.percentile(v, 95)}
        for s, v in sorted(stages.items())
    }
