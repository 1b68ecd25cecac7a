from __future__ import annotations

from rag.answer.checks.off_target import off_target
from tests.answer.helpers import passage

HIGH_TECH_ZONE = passage(
    1,
    "实现一般公共预算收入130.2亿元。到2025年地区生产总值达到2000亿元规模。",
    context="济南高新区十四五规划\n实现一般公共预算收入130.2亿元。到2025年地区生产总值达到2000亿元规模。",
)
AIRPORT = passage(2, "机场旅客吞吐量达到1300万人次、货邮吞吐量14.4万吨。")


def test_value_of_another_place_is_off_target() -> None:
    reason = off_target(
        "地区生产总值目标是2000亿元[1]。", "章丘区的地区生产总值目标是多少?", [HIGH_TECH_ZONE]
    )
    assert reason and "章丘区" in reason
    assert off_target("2000亿元[1]。", "高新区的地区生产总值目标是多少?", [HIGH_TECH_ZONE]) is None


def test_value_of_the_opposite_quantity_is_off_target() -> None:
    reason = off_target(
        "一般公共预算支出为130.2亿元[1]。", "2020年一般公共预算支出是多少?", [HIGH_TECH_ZONE]
    )
    assert reason and "收入" in reason
    assert off_target("预算收入130.2亿元[1]。", "一般公共预算收入是多少?", [HIGH_TECH_ZONE]) is None


def test_money_question_answered_without_money_is_off_target() -> None:
    reason = off_target(
        "总投资是1300万人次、14.4万吨[2]。", "机场二期工程的总投资是多少?", [AIRPORT]
    )
    assert reason and "money" in reason
    # a count or a share is no amount of money: not judged by its unit
    assert off_target("旅客吞吐量1300万人次[2]。", "机场旅客吞吐量达到多少?", [AIRPORT]) is None
    assert off_target("增长14.4%[2]。", "地区生产总值增长多少?", [AIRPORT]) is None


def test_city_wide_value_in_a_comparison_is_not_judged_by_the_district() -> None:
    city = passage(
        3,
        "全市实际使用外资达到35亿美元左右。",
        context="工业强市三年行动计划\n全市实际使用外资达到35亿美元左右。",
    )
    question = "全市实际使用外资目标和济南高新区实际使用外资目标分别是多少?"
    assert off_target("全市实际使用外资目标是35亿美元左右[3]。", question, [city]) is None
    # the same value given for the district itself is still off target
    assert off_target("济南高新区的目标是35亿美元[3]。", question, [city])
