"""Normal forms: how answers and passages are compared for numbers, and what of a
question or query is text at all."""

from __future__ import annotations

import re
import unicodedata
from itertools import permutations

NUMBER = re.compile(r"\d+(?:\.\d+)?")
# "1." "2、" "(3)" "（4）" "⑤" opening a line or an item: numbering, not a figure
LIST_MARKER = re.compile(
    r"(?:^|(?<=[\n：:；;。]))\s*(?:[(（]\d{1,2}[)）]|\d{1,2}[.．、)）](?!\d)|[\u2460-\u2473])\s*"
)


def figures(text: str) -> list[str]:
    """The numbers a text states, in normal form, list numbering left out."""
    return NUMBER.findall(normalize(LIST_MARKER.sub(" ", text)))


def normalize(text: str) -> str:
    """Full-width digits and signs to ASCII (NFKC), no thousands separators ("1,214"),
    no spaces. The corpus's ASCII commas between clauses stay."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3})", "", text).replace(" ", "")


def printable(text: str) -> str:
    """Control characters become spaces; the ends are stripped."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def worked_out(number: str, operands: list[float]) -> bool:
    """Whether `number`, at the precision it is written with, is the sum, difference,
    product, ratio, percentage ratio or percentage change of two of `operands`."""
    value = float(number)
    decimals = len(number.partition(".")[2])
    tolerance = 0.5 * 10**-decimals + 1e-9  # "约708.5", "1.5倍": rounded as written
    for a, b in permutations(operands, 2):
        results = [a + b, a - b, a * b]
        if b:
            results += [a / b, a / b * 100, (a - b) / b * 100]
        if any(abs(r - value) <= tolerance for r in results):
            return True
    return False
