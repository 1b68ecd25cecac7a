"""Decide to refuse from evidence, not from the model's mood.

A 1.5B model told to refuse refuses answerable questions too, and one not told invents
numbers. So code decides before generation, from the passages: a year or number the
question names must appear in them, and enough of the question's specific terms must be
covered. After generation, a reply that is itself a refusal, or that has no sentence
supported by a passage, also counts as one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.answer.context import Passage
from rag.keyword_index import tokenize

# Words any question about these documents may use; they say nothing about coverage.
_GENERIC = frozenset(
    [
        "济南",
        "济南市",
        "我市",
        "全市",
        "目标",
        "计划",
        "规划",
        "提出",
        "要求",
        "情况",
        "主要",
        "哪些",
        "什么",
        "多少",
        "达到",
        "实现",
        "打算",
        "希望",
        "期间",
        "年",
        "分别",
        "哪",
        "个",
        "是",
        "为",
        "年度",
        "根据",
        "按照",
        "按",
        "中",
        "里",
        "政府",
        "工作",
        "报告",
    ]
)
_ANCHOR = re.compile(r"(?:19|20)\d{2}(?=年)|\d+(?:\.\d+)?(?=[%％亿万个家所座条项])")
_MODEL_REFUSALS = (
    "没有找到相关信息",
    "未提及",
    "没有提到",
    "没有提及",
    "无法回答",
    "无法确定",
    "not mentioned",
    "does not mention",
    "no information",
)


@dataclass(frozen=True)
class EvidenceCheck:
    answerable: bool
    coverage: float
    missing: tuple[str, ...]  # anchors of the question that no passage mentions


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def check_evidence(question: str, passages: list[Passage], min_coverage: float) -> EvidenceCheck:
    """How well these passages cover the question (all passages before generation, the
    cited ones after it)."""
    if not passages:
        return EvidenceCheck(False, 0.0, ())
    corpus = _norm("\n".join(p.hit.context or p.hit.text for p in passages))
    anchors = tuple(dict.fromkeys(_ANCHOR.findall(_norm(question))))
    missing = tuple(a for a in anchors if a not in corpus)
    terms = [t for t in dict.fromkeys(tokenize(question)) if t not in _GENERIC]
    covered = sum(len(t) for t in terms if t in corpus.lower())
    coverage = covered / sum(len(t) for t in terms) if terms else 1.0
    return EvidenceCheck(not missing and coverage >= min_coverage, round(coverage, 3), missing)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def invented_numbers(answer: str, question: str, passages: list[Passage]) -> list[str]:
    """Numbers in the answer that neither the passages nor the question contain: the
    small model's way of answering what the documents do not say."""
    from rag.answer.citations import MARKER

    text = _norm(MARKER.sub("", answer)).replace(",", "")
    known = _norm(
        question + "\n" + "\n".join(p.hit.context or p.hit.text for p in passages)
    ).replace(",", "")
    return [n for n in dict.fromkeys(_NUMBER.findall(text)) if n not in known]


def is_model_refusal(answer: str) -> bool:
    text = answer.strip().lower()
    return not text or any(phrase in text for phrase in _MODEL_REFUSALS)
