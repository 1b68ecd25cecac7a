"""Which writing system a text is in: Chinese characters against Latin letters."""

from __future__ import annotations

import re
from collections.abc import Iterable

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def han_share(texts: Iterable[str]) -> float | None:
    """The share of Chinese characters among the Chinese characters and Latin letters
    of the texts; None when they hold neither (numbers, punctuation)."""
    han = latin = 0
    for text in texts:
        han += len(_HAN.findall(text))
        latin += len(_LATIN.findall(text))
    return han / (han + latin) if han + latin else None
