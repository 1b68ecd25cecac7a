"""Scoring functions. Chinese has no spaces, so text overlap is measured in characters."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

# An evidence counts as found by a passage that covers at least half of it.
MIN_EVIDENCE_OVERLAP = 0.5
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no blanks: "１５％" and "15 %" compare equal."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def contains_all(answer: str, needles: Sequence[str]) -> bool:
    norm = normalise(answer)
    return all(normalise(n) in norm for n in needles)


def _chars(text: str) -> list[str]:
    return list(_PUNCT.sub("", normalise(text)))


def char_f1(prediction: str, gold: str) -> float:
    pred, ref = _chars(prediction), _chars(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def rouge_l(prediction: str, gold: str) -> float:
    """ROUGE-L F1 over characters (longest common subsequence)."""
    pred, ref = _chars(prediction), _chars(gold)
    if not pred or not ref:
        return float(pred == ref)
    prev = [0] * (len(ref) + 1)
    for p in pred:
        cur = [0]
        for j, r in enumerate(ref, start=1):
            cur.append(prev[j - 1] + 1 if p == r else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def spans_of(needle: str, text: str) -> list[tuple[int, int]]:
    """Where `needle` occurs in `text`, white space aside: a loader that reads the gap
    between a Chinese word and a Latin one as a space ("使用 xelatex 编译") still finds
    evidence written as "使用xelatex编译", as the answer check folds white space."""
    chars = [re.escape(c) for c in needle if not c.isspace()]
    if not chars:
        return []
    pattern = re.compile(r"\s*".join(chars))
    spans, start = [], 0
    while (m := pattern.search(text, start)) is not None:
        spans.append((m.start(), m.end()))
        start = m.start() + 1
    return spans


def covers(passage: tuple[int, int], evidence: tuple[int, int]) -> bool:
    overlap = min(passage[1], evidence[1]) - max(passage[0], evidence[0])
    return overlap >= MIN_EVIDENCE_OVERLAP * (evidence[1] - evidence[0])


def first_rank(found: Sequence[bool]) -> int | None:
    """1-based rank of the first True, or None."""
    return next((i for i, ok in enumerate(found, start=1) if ok), None)


def hit_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None
