"""Words: jieba's search-mode tokens without function words, for BM25 and the checks."""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

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


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (a long word also yields its parts), lower-cased."""
    tokens = []
    for token in _jieba().lcut_for_search(text):
        token = token.strip().lower()
        if token and token not in _STOPWORDS and _TOKEN.fullmatch(token):
            tokens.append(token)
    return tokens
