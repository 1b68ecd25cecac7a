"""Before generating: do the passages cover the question? A year or number the
question names must appear in them, and enough of its specific terms must be covered.
A 1.5B model told to refuse refuses answerable questions too, and one not told invents
numbers, so this is decided in code, from the passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.normal import normalize
from rag.text.tokens import tokenize
from rag.types import Passage

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


@dataclass(frozen=True)
class EvidenceCheck:
    answerable: bool
    coverage: float
    missing: tuple[str, ...]  # anchors of the question that no passage mentions


def check_evidence(question: str, passages: list[Passage], min_coverage: float) -> EvidenceCheck:
    """How well these passages cover the question (all passages before generation, the
    cited ones after it)."""
    if not passages:
        return EvidenceCheck(False, 0.0, ())
    corpus = normalize("\n".join(p.hit.context or p.hit.text for p in passages))
    anchors = tuple(dict.fromkeys(_ANCHOR.findall(normalize(question))))
    missing = tuple(a for a in anchors if a not in corpus)
    terms = [t for t in dict.fromkeys(tokenize(question)) if t not in _GENERIC]
    covered = sum(len(t) for t in terms if t in corpus.lower())
    coverage = covered / sum(len(t) for t in terms) if terms else 1.0
    return EvidenceCheck(not missing and coverage >= min_coverage, round(coverage, 3), missing)
