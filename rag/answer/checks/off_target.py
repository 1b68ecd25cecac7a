"""Every value of the answer is in a passage, but the passage says it of something else:
another place, the opposite quantity, or not money when money was asked."""

from __future__ import annotations

import re

from rag.answer.checks.base import Draft
from rag.answer.citations import MARKER
from rag.text.normal import NUMBER, normalize
from rag.types import Passage

# A value with a unit: "130.2亿元", "20%", "3处" (not "6号线" or "2025年").
_VALUE = re.compile(
    r"(\d+(?:\.\d+)?)(?=\s*(?:%|[万亿千百]|[元人个家所座条项张处名台辆吨亩米里岁倍]))"
)
# A place the question names: "东湖区", "北岸片区", "甲市高新区" (not "地区", "全区").
_PLACE = re.compile(r"([^\W\d_年的期和末全时地在与及、据按照]{2,4}?(?:片区|区|县))")
_NOT_PLACES = ("地区", "全区", "城区")
# "The whole city/province/country": a figure for the whole, not for one place in it.
_WHOLE = re.compile(r"全[市省国]")
# A city or province a document's title names is the scope its figures are stated for.
_TITLE_PLACE = re.compile(r"([^\W\d_]{2,3}?[市省])")
# Quantities a small model swaps for each other when the passage has only one of them.
_OPPOSITES = (("支出", "收入"), ("进口", "出口"), ("农村", "城镇"))
_MONEY_QUESTION = re.compile(r"总投资|投资额|预算支出|预算收入|生产总值|增加值|营业收入|总额|资金")
_NOT_AN_AMOUNT = re.compile(r"增长|增速|增幅|比重|占比|比例|%|几成|降幅|强度|多少个|多少家|多少项")


def _values(answer: str, question: str) -> list[tuple[str, str]]:
    """(value, the answer sentence it is in) for each value the question did not name."""
    asked = set(NUMBER.findall(normalize(question)))
    out = []
    for sentence in re.split(r"[。；;！？!?\n]", normalize(MARKER.sub("", answer))):
        out += [(v, sentence) for v in dict.fromkeys(_VALUE.findall(sentence)) if v not in asked]
    return out


def _before(value: str, passages: list[Passage], chars: int = 40) -> list[tuple[Passage, str]]:
    """Each place a passage states `value`, with the text just before it (its label)."""
    pattern = re.compile(rf"(?<![\d.]){re.escape(value)}(?![\d.])")
    out = []
    for p in passages:
        text = normalize(p.hit.text)
        out += [(p, text[max(0, m.start() - chars) : m.start()]) for m in pattern.finditer(text)]
    return out


def off_target(answer: str, question: str, passages: list[Passage]) -> str | None:
    """Why the answer's values answer some other question, or None.

    Every value is in a passage (invented_numbers checks that), but the passage may say
    it of another place, of the opposite quantity, or in another unit: the small model
    then answers "what did 东湖区 plan" with 高新区's figure.
    """
    q = normalize(question)
    values = _values(answer, question)
    money = _MONEY_QUESTION.search(q) and not _NOT_AN_AMOUNT.search(q)
    if money and values and "元" not in normalize(answer):
        return "the question asks for an amount of money and the answer gives none"
    for value, sentence in values:
        stated = _before(value, passages)
        if stated:
            reason = _other_place(value, q, sentence, stated) or _opposite_quantity(
                value, q, stated
            )
            if reason:
                return reason
    return None


def _other_place(
    value: str, question: str, sentence: str, stated: list[tuple[Passage, str]]
) -> str | None:
    """A place the question names that no passage stating `value` is about. A sentence
    that gives the value for the whole city ("全市…20亿元") is not judged by the
    district the question compares it with."""
    places = [p for p in dict.fromkeys(_PLACE.findall(question)) if p not in _NOT_PLACES]
    if _wider_scope(sentence, stated) and not any(p in sentence for p in places):
        return None
    contexts = [normalize(p.hit.context or p.hit.text) for p, _ in stated]
    for place in places:
        name = re.sub(r"(?:片区|区|县)$", "", place)  # "东湖区" is often just "东湖"
        if not any(name in c for c in contexts):
            return f"{value} is stated of another place than {place}"
    return None


def _wider_scope(sentence: str, stated: list[tuple[Passage, str]]) -> bool:
    """The sentence speaks of the whole ("全市"), or of the city or province the title of
    a document stating the value is about ("甲市" in 甲市's plan)."""
    if _WHOLE.search(sentence):
        return True
    titles = " ".join(normalize(p.hit.title or "") for p, _ in stated)
    return any(place in sentence for place in _TITLE_PLACE.findall(titles))


def _opposite_quantity(value: str, question: str, stated: list[tuple[Passage, str]]) -> str | None:
    """The question asks for 支出 and every passage labels `value` as 收入."""
    labels = [label for _, label in stated]
    for pair in _OPPOSITES:
        for asked, other in (pair, pair[::-1]):
            if (
                asked in question
                and other not in question
                and all(other in label and asked not in label for label in labels)
            ):
                return f"{value} is a figure for {other}, not {asked}"
    return None


class OffTarget:
    def verdict(self, draft: Draft) -> str | None:
        return off_target(draft.reply, draft.question, draft.passages)
