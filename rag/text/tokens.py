"""Words: jieba's search-mode tokens without function words, for BM25 and the checks."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

# How much a word says about what is asked (checks/evidence.py term_weight)
TermWeight = Callable[[str], float]

# Function words and punctuation carry no topic; numbers and units are kept on purpose.
_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "是",
        "为",
        "对",
        "把",
        "被",
        "从",
        "向",
        "将",
        "以",
        "等",
        "中",
        "上",
        "下",
        "其",
        "之",
        "这",
        "那",
        "有",
        "也",
        "都",
        "而",
        "并",
        "个",
        "什么",
        "哪些",
        "哪个",
        "多少",
        "几",
        "吗",
        "呢",
        "啊",
        "吧",
        "怎么",
        "如何",
        "是否",
        "要",
        "会",
        "能",
        "可以",
        "提出",
        "方面",
        "关于",
    ]
)
_TOKEN = re.compile(r"[\w.%％]+")


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@cache
def _dictionary() -> tuple[dict[str, int], float]:
    """jieba's word counts (from a large general corpus) and the log of their total."""
    jieba = _jieba()
    return jieba.dt.FREQ, math.log(jieba.dt.total)


def rarity(token: str) -> float:
    """How rare a word is in general Chinese, 0-1 (its self-information in jieba's
    dictionary over that of a word seen once): "什么" 0.39, "目标" 0.48, "研发" 0.58,
    "基站" 0.76; 1 for a word the dictionary does not know (English, codes, new terms).
    Words every question uses ("主要", "情况") are common in any text, whatever the
    documents."""
    counts, log_total = _dictionary()
    count = counts.get(token, 0)
    return 1.0 if count <= 0 else (log_total - math.log(count)) / log_total


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (a long word also yields its parts), lower-cased."""
    tokens = []
    for token in _jieba().lcut_for_search(text):
        token = token.strip().lower()
        if token and token not in _STOPWORDS and _TOKEN.fullmatch(token):
            tokens.append(token)
    return tokens
