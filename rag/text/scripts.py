"""Which writing system a text is in: Chinese characters against Latin letters."""

from __future__ import annotations

import re
from collections.abc import Iterable

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def has_han(text: str) -> bool:
    """Whether the text holds a Chinese character."""
    return bool(_HAN.search(text))


def han_share(texts: Iterable[str]) -> float | None:
    """The share of Chinese characters among the Chinese characters and Latin letters
    of the texts; None when they hold neither (numbers, punctuation)."""
    han = latin = 0
    for text in texts:
        han += len(_HAN.findall(text))
        latin += len(_LATIN.findall(text))
    return han / (han + latin) if han + latin else None


# A quarter Chinese characters is a Chinese sentence that names English commands and
# products ("使用 --version 查看 rustdoc 的版本"); less is English with a Chinese word
CHINESE_FROM = 0.25


# web addresses are letters of no language: a Chinese sentence naming three of them is
# still Chinese
_URL = re.compile(r"(?:https?|ftp)://[^\s)\]）】>]+|www\.[^\s)\]）】>]+")


def language_of(texts: Iterable[str]) -> str | None:
    """The language of the texts by their letters, "zh" or "en"; None without letters."""
    share = han_share(_URL.sub(" ", text) for text in texts)
    if share is None:
        return None
    return "zh" if share >= CHINESE_FROM else "en"
