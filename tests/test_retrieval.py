from __future__ import annotations

import pytest

from rag.retrieval import EmptyQueryError, clean_query, reciprocal_rank_fusion
from rag.service import RagService


def test_rrf_rewards_agreement_and_respects_weights() -> None:
    fused = reciprocal_rank_fusion([([1, 2, 3], 1.0), ([3, 2, 4], 1.0)], rrf_k=60)
    assert [cid for cid, _ in fused][:2] == [2, 3] or [cid for cid, _ in fused][:2] == [3, 2]
    assert {cid for cid, _ in fused} == {1, 2, 3, 4}
    only_second = reciprocal_rank_fusion([([1, 2], 0.0), ([2, 1], 1.0)], rrf_k=60)
    assert only_second[0][0] == 2


@pytest.mark.parametrize("query", ["", "   \n\t", "\x00\x01"])
def test_empty_queries_get_a_clear_error(query: str) -> None:
    with pytest.raises(EmptyQueryError, match="empty"):
        clean_query(query)


def test_very_long_query_is_capped() -> None:
    assert len(clean_query("济" * 20000)) == 2000


def test_hybrid_search_finds_passage_with_offsets(service: RagService) -> None:
    service.ingest(progress=False)
    hits = service.search("新建5G基站多少个", k=3)
    assert hits and hits[0].source == "plan.txt"
    top = hits[0]
    document = (service.settings.corpus_dir / "plan.txt").read_text(encoding="utf-8")
    assert document[top.start : top.end] == top.text
    assert "新建5G基站6000个" in top.text
    assert top.section == "二、重点任务 > (一)壮大数字经济"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert top.bm25_rank is not None


def test_search_on_missing_kb_says_how_to_build_it(service: RagService) -> None:
    from rag.knowledge_base import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError, match="rag ingest --kb nothing"):
        service.search("问题", kb="nothing")
