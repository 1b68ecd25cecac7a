from __future__ import annotations

from rag.answer.refusal import check_evidence, invented_numbers, is_model_refusal
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


def test_invented_numbers_are_found() -> None:
    assert invented_numbers("新建5G基站6000个[1]。", "问题", PASSAGES) == []
    assert invented_numbers("地区生产总值为1.5万亿元[2]。", "问题", PASSAGES) == ["1.5"]


def test_model_refusals_are_recognised() -> None:
    assert is_model_refusal("资料中没有找到相关信息。")
    assert is_model_refusal("  ")
    assert not is_model_refusal("新建5G基站6000个[1]。")
