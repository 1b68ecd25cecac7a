"""Normal forms: how answers and passages are compared for numbers, and what of a
question or query is text at all."""

from __future__ import annotations

import re
import unicodedata

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Full-width digits and signs to ASCII (NFKC), no thousands separators ("1,214"),
    no spaces. The corpus's ASCII commas between clauses stay."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace(" ", "")


def printable(text: str) -> str:
    """Control characters become spaces; the ends are stripped."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()
