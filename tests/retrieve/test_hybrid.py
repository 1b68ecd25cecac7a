from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.retrieve.hybrid import (
    EmptyQueryError,
    clean_query,
    conjunct_queries,
    reciprocal_rank_fusion,
)
from rag.service import RagService
from rag.settings import Settings


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
    from rag.store.knowledge_base import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError, match="rag ingest --kb nothing"):
        service.search("问题", kb="nothing")


def test_conjunct_queries_split_one_clause_into_its_two_sides() -> None:
    question = "数字经济占比的目标,政府工作报告和工业强市行动计划分别是多少?"
    assert conjunct_queries(question) == [
        "数字经济占比的目标，政府工作报告",
        "数字经济占比的目标，工业强市行动计划分别是多少",
    ]
    assert conjunct_queries("新建5G基站多少个?") == []
    assert conjunct_queries("和平区的目标分别是多少?") == []  # "和" opening a word joins nothing
    # halves of a clause that does not ask about each side are not questions
    assert conjunct_queries("要借助哪家企业的技术和产业优势?") == []
    assert conjunct_queries("软件和信息技术服务业的目标,甲市和乙市分别是多少?") == [
        "软件和信息技术服务业的目标，甲市",
        "软件和信息技术服务业的目标，乙市分别是多少",
    ]


def test_a_question_about_two_documents_retrieves_both(
    service: RagService, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Six reports match every word of the question but two; another plan's single
    # passage holds the second half of the answer.
    for i in range(1, 7):
        (corpus / f"report{i}.txt").write_text(
            f"政府工作报告提出，实施数字经济行动计划，数字经济占比的目标是{45 + i}%。",
            encoding="utf-8",
        )
    (corpus / "industry.txt").write_text(
        "工业强市\n\n到2025年，数字经济规模占GDP比重达到50%以上。", encoding="utf-8"
    )
    service.ingest(progress=False)
    question = "数字经济占比的目标,政府工作报告和工业强市行动计划分别是多少?"
    sources = [h.source for h in service.search(question, k=5)]
    assert "industry.txt" in sources and sources[0].startswith("report")
    monkeypatch.setattr("rag.retrieve.hybrid.conjunct_queries", lambda q: [])
    assert "industry.txt" not in {h.source for h in service.search(question, k=5)}


class ConceptEmbedder:
    """Dense vectors by meaning across languages: a text's vector counts the concepts
    it names in either language (what BM25 cannot see)."""

    model_id = "test:concepts"
    CONCEPTS = (("layers", "几层", "层数"), ("colour", "颜色"), ("font", "字体"), ("page", "页"))
    dim = len(CONCEPTS) + 1

    def _vector(self, text: str) -> np.ndarray:
        vec = np.array(
            [sum(text.count(w) for w in words) for words in self.CONCEPTS] + [0.1], np.float32
        )
        return vec / np.linalg.norm(vec)

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        return np.vstack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def test_a_query_whose_telling_words_are_not_in_the_corpus_is_ranked_by_the_dense_ranker(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    # every page says "manual", many times; only one says what the question asks
    for i in range(12):
        (corpus / f"p{i:02}.txt").write_text(
            f"The manual, part {i}. The manual covers the manual's page {i} and its font.",
            encoding="utf-8",
        )
    (corpus / "p99.txt").write_text("Drawings support up to 8 layers.", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=corpus, translate_questions=False)
    service = RagService(settings, embedder=ConceptEmbedder())  # type: ignore[arg-type]
    service.ingest(progress=False)
    hits = service.search("manual 一共能做几层", k=3)
    assert hits[0].source == "p99.txt", [h.source for h in hits]
    assert hits[0].bm25_rank is None and hits[0].dense_rank == 1
    # where the words are in the text, BM25 still has its say
    assert service.search("manual part 7", k=1)[0].source == "p07.txt"
