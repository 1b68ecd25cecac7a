from __future__ import annotations

from rag.answer.checks.invented import invented_numbers
from tests.answer.helpers import PASSAGES


def test_invented_numbers_are_found() -> None:
    assert invented_numbers("新建5G基站6000个[1]。", "问题", PASSAGES) == []
    assert invented_numbers("地区生产总值为1.5万亿元[2]。", "问题", PASSAGES) == ["1.5"]
