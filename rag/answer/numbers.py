"""How answers and passages are compared for numbers: one normal form for both sides."""

from __future__ import annotations

import re
import unicodedata

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalize(text: str) -> str:
    """Full-width digits and signs to ASCII (NFKC), no thousands separators ("1,214"),
    no spaces. The corpus's ASCII commas between clauses stay."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace(" ", "")
