from __future__ import annotations

from rag.store.keyword_index import KeywordIndex
from rag.text.tokens import rarity, tokenize


def test_tokenize_keeps_numbers_and_drops_function_words() -> None:
    tokens = tokenize("制造业外资占比达到15%以上的目标是多少?")
    assert "制造业" in tokens and "外资" in tokens
    assert "15%" in tokens
    assert "的" not in tokens and "多少" not in tokens and "?" not in tokens


def test_bm25_ranks_the_document_with_the_rare_term_first() -> None:
    docs = [tokenize(t) for t in ["济南发展工业", "济南建设透明质酸谷项目", "济南发展服务业"]]
    index = KeywordIndex(docs)
    ranked = index.search(tokenize("透明质酸谷在哪里"), 3)
    assert ranked[0][0] == 1
    assert all(score > 0 for _, score in ranked)


def test_empty_index_and_empty_query() -> None:
    assert KeywordIndex([]).search(["济南"], 5) == []
    assert KeywordIndex([["济南"]]).search([], 5) == []


def test_coverage_is_the_share_of_the_querys_telling_words_the_corpus_holds() -> None:
    docs = [["manual", "layers", "8"], ["manual", "colour"], ["manual", "font"]]
    index = KeywordIndex(docs)
    assert index.coverage(["layers", "colour"]) == 1.0
    assert index.coverage(["一共", "几层"]) == 0.0
    # a word every passage has says little; the absent telling words outweigh it
    assert index.coverage(["manual", "一共", "几层"]) < 0.05
    assert 0.3 < index.coverage(["layers", "几层"]) < 0.7
    assert index.coverage([]) == 0.0


def test_rarity_in_the_knowledge_base_and_in_the_language() -> None:
    index = KeywordIndex([["manual", "layers"], ["manual", "colour"], ["manual", "font"]])
    assert index.rarity("manual") < 0.1  # in every chunk
    assert 0.3 < index.rarity("layers") < 1.0
    assert index.rarity("absent") == 1.0
    assert rarity("什么") < rarity("目标") < rarity("基站") < 1.0
    assert rarity("rustdoc") == 1.0  # unknown to the dictionary
