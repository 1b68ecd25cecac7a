from __future__ import annotations

from rag.answer.checks.evidence import check_evidence
from tests.answer.helpers import PASSAGES


def test_year_named_in_the_question_must_be_in_the_passages() -> None:
    check = check_evidence("2024年新建5G基站多少个?", PASSAGES, 0.4)
    assert not check.answerable and check.missing == ("2024",)


def test_covered_question_is_answerable() -> None:
    check = check_evidence("新建5G基站多少个?", PASSAGES, 0.4)
    assert check.answerable and check.coverage >= 0.9


def test_off_topic_question_is_not() -> None:
    assert not check_evidence("市长的籍贯是哪里?", PASSAGES, 0.4).answerable
    assert not check_evidence("随便问问", [], 0.4).answerable
