from __future__ import annotations

from rag.answer.checks.declined import is_model_refusal


def test_model_refusals_are_recognised() -> None:
    assert is_model_refusal("资料中没有找到相关信息。")
    assert is_model_refusal("  ")
    assert not is_model_refusal("新建5G基站6000个[1]。")
