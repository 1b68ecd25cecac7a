from __future__ import annotations

from rag.answer.checks.invented import invented_numbers
from tests.answer.helpers import PASSAGES


def test_invented_numbers_are_found() -> None:
    assert invented_numbers("新建5G基站6000个[1]。", "问题", PASSAGES) == []
    assert invented_numbers("地区生产总值为1.5万亿元[2]。", "问题", PASSAGES) == ["1.5"]


def test_list_numbering_is_not_a_figure() -> None:
    """Issue 19: "哪些产业发展重点？" answered as a numbered list was refused, its
    numbering counted as numbers no passage holds."""
    from tests.answer.helpers import passage

    listed = [passage(1, "重点发展高端装备、新一代信息技术和现代金融三大产业。")]
    answer = "重点产业有：\n1. 高端装备[1]\n2、新一代信息技术[1]\n（3）现代金融[1]\n④ 其他"
    assert invented_numbers(answer, "哪些产业发展重点？", listed) == []
    assert invented_numbers("1. 高端装备产值达到900亿元[1]", "问题", listed) == ["900"]
    assert invented_numbers("1.5万亿元[1]", "问题", listed) == ["1.5"]  # a figure, not "1."
