from __future__ import annotations

from dataclasses import replace

from rag.answer.checks.evidence import check_evidence, term_weight
from rag.store.keyword_index import KeywordIndex
from rag.text.tokens import tokenize
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


def test_a_word_every_document_holds_says_nothing_about_coverage() -> None:
    # a knowledge base about one city: its name is in every chunk, so a question about
    # something these passages lack is not covered by the city's name
    chunks = [[*tokenize(p.hit.context), "甲市"] for p in PASSAGES] + [["甲市", "概况"]] * 8
    passages = [replace(p, hit=replace(p.hit, context="甲市" + p.hit.context)) for p in PASSAGES]
    question = "甲市的数据交易所在哪里?"
    by_language = check_evidence(question, passages, 0.3)
    by_kb = check_evidence(question, passages, 0.3, term_weight(KeywordIndex(chunks).rarity))
    assert by_kb.coverage < by_language.coverage
    assert not by_kb.answerable


def test_the_most_telling_word_found_carries_the_largest_share() -> None:
    check = check_evidence("新建5G基站多少个?", PASSAGES, 0.3)
    weigh = term_weight()
    shares = {t: weigh(t) for t in tokenize("新建5G基站多少个?")}
    assert check.best_share == round(max(shares.values()) / sum(shares.values()), 3)
    assert 0 < check.best_share < check.coverage
