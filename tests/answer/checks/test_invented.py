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


def test_a_number_worked_out_from_stated_ones_is_not_invented() -> None:
    """Issue 19: "how much more in 2025 than in 2020?" answered 2000 - 1291.5 = 708.5
    was refused, 708.5 being in no passage."""
    from tests.answer.helpers import passage

    stated = [passage(1, "2020年实现地区生产总值1291.5亿元。到2025年达到2000亿元规模。")]
    worked = "2020年为1291.5亿元[1]，2025年目标2000亿元[1]，约增加708.5亿元。"
    assert invented_numbers(worked, "多出多少亿元？", stated) == []
    assert invented_numbers("增长约54.9%[1]，是2020年的1.5倍。1291.5、2000", "问题", stated) == []
    # without its operands in the answer, or not their result, it is still invented
    assert invented_numbers("2025年比2020年增加708.5亿元[1]。", "问题", stated) == ["708.5"]
    assert invented_numbers("1291.5亿元和2000亿元，相差710亿元[1]。", "问题", stated) == ["710"]
