"""The runner and report on a dataset it has never seen, with a scripted answerer,
checked by hand against what each item should score."""

from __future__ import annotations

import json
from pathlib import Path

from rag.evaluation.dataset import load_dataset
from rag.evaluation.report import build_report, compare, write_report
from rag.evaluation.runner import EvidenceLocator, run_items, summarise
from rag.types import SearchHit

TEXT = "甲市今年新建5G基站6000个。乙市计划建设算力中心3个。丙市的目标尚未公布。"
ITEMS = [
    {
        "id": "a",
        "question": "甲市新建多少5G基站?",
        "answer": "6000个",
        "must_contain": ["6000个"],
        "source": "doc.txt",
        "evidence": "甲市今年新建5G基站6000个。",
        "type": "number",
        "difficulty": "easy",
    },
    {
        "id": "b",
        "question": "乙市建设多少算力中心?",
        "answer": "3个",
        "must_contain": ["3个"],
        "source": "doc.txt",
        "evidence": "乙市计划建设算力中心3个。",
        "type": "number",
        "difficulty": "easy",
    },
    {
        "id": "c",
        "question": "丁市的GDP是多少?",
        "answer": "没有提到",
        "must_contain": [],
        "source": "",
        "evidence": "",
        "type": "unanswerable",
        "difficulty": "easy",
    },
]


def _hit(rank: int, start: int, end: int) -> SearchHit:
    return SearchHit(rank, 1.0 / rank, "doc.txt", "", start, end, TEXT[start:end], rank)


def _search(question: str, k: int) -> list[SearchHit]:
    # "a": evidence at rank 1; "b": evidence at rank 2; "c": anything
    first = (0, 15) if question.startswith("甲") else (30, 40)
    return [_hit(1, *first), _hit(2, 15, 28)][:k]


def _answer(question: str) -> dict:
    if question.startswith("甲"):
        return {
            "answer": "6000个[1]",
            "refused": False,
            "timings": {"total_ms": 10.0},
            "citations": [{"source": "doc.txt", "start": 0, "end": 15, "text": TEXT[:15]}],
        }
    if question.startswith("乙"):  # wrong answer, citing the wrong passage
        return {
            "answer": "5个[1]",
            "refused": False,
            "timings": {"total_ms": 30.0},
            "citations": [{"source": "doc.txt", "start": 30, "end": 40, "text": TEXT[30:40]}],
        }
    return {
        "answer": "没有找到",
        "refused": True,
        "refusal_reason": "no passage holds the question's key words",
        "citations": [],
        "timings": {"total_ms": 20.0},
    }


def _run(tmp_path: Path, answer=_answer):  # type: ignore[no-untyped-def]
    path = tmp_path / "unseen.jsonl"
    path.write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in ITEMS), encoding="utf-8"
    )
    return run_items(
        load_dataset(path), _search, EvidenceLocator({"doc.txt": TEXT}), answer, progress=False
    )


def test_metrics_agree_with_a_hand_check(tmp_path: Path) -> None:
    results = _run(tmp_path)
    assert [r.evidence_rank for r in results[:2]] == [1, 2]
    s = summarise(results)
    assert s["hit@1"] == 0.5 and s["hit@3"] == 1.0
    assert s["mrr"] == 0.75
    assert s["answer_accuracy"] == 0.5
    assert s["refusal_rate"] == 1.0 and s["false_refusal_rate"] == 0.0
    assert s["citation_precision"] == 0.5  # one of two citations holds its evidence
    assert s["by_type"]["number"]["items"] == 2
    assert s["by_source"]["doc.txt"]["hit@1"] == 0.5
    assert s["latency_ms"]["total_ms"]["p50"] == 20.0


def test_report_files_and_comparison(tmp_path: Path) -> None:
    old = build_report(summarise(_run(tmp_path)), _run(tmp_path), {"run": "old"})

    def better(question: str) -> dict:
        reply = _answer(question)
        if question.startswith("乙"):
            reply = {**reply, "answer": "3个[1]"}
        return reply

    new_results = _run(tmp_path, better)
    new = build_report(summarise(new_results), new_results, {"run": "new"})
    diff = compare(old, new)
    assert diff["better"] == ["b"] and diff["worse"] == []
    assert diff["metrics"]["answer_accuracy"]["delta"] == 0.5
    path = write_report(new, tmp_path / "out", diff)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert len(saved["items"]) == 3 and saved["items"][0]["retrieved"][0]["holds_evidence"] == [0]
    reasons = [item["refusal_reason"] for item in saved["items"]]
    assert reasons == [None, None, "no passage holds the question's key words"]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "Compared with the previous run" in html
