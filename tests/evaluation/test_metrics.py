from __future__ import annotations

import pytest

from rag.evaluation import metrics as m


def test_contains_all_ignores_width_and_spaces() -> None:
    assert m.contains_all("占比达到１５％以上", ["15%"])
    assert m.contains_all("从 275 家增至 1214 家", ["275", "1214"])
    assert not m.contains_all("达到14亿美元", ["14.5亿美元"])


def test_char_f1_and_rouge_l() -> None:
    assert m.char_f1("新建5G基站6000个", "新建5G基站6000个") == 1.0
    assert m.char_f1("", "有内容") == 0.0
    assert 0 < m.char_f1("新建基站6000个", "5G基站6000个") < 1
    assert m.rouge_l("甲乙丙丁", "甲乙丙丁") == 1.0
    assert m.rouge_l("丁丙乙甲", "甲乙丙丁") == pytest.approx(0.25)


def test_evidence_coverage_and_ranks() -> None:
    assert m.covers((0, 100), (40, 60))
    assert m.covers((0, 50), (40, 60))  # half the evidence
    assert not m.covers((0, 44), (40, 60))
    assert m.first_rank([False, True, True]) == 2
    assert m.reciprocal_rank(2) == 0.5 and m.reciprocal_rank(None) == 0.0
    assert m.hit_at(3, 3) == 1.0 and m.hit_at(4, 3) == 0.0
    assert m.spans_of("ab", "xabyab") == [(1, 3), (4, 6)]
    # white space aside, as a loader may read the gap between Chinese and Latin words
    assert m.spans_of("使用xelatex编译", "先使用 xelatex 编译") == [(1, 14)]
    assert m.spans_of("使用 xelatex", "使用xelatex") == [(0, 9)]
    assert m.spans_of("  ", "a b") == []
