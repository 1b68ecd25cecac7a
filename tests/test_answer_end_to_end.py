"""The real bundled language model answering questions on the bundled corpus."""

from __future__ import annotations

import pytest

from rag.llm.base import ChatMessage
from rag.service import RagService

pytestmark = pytest.mark.real_model

# Issue 3 is open: with the bundled 1.5B model these fail today (it took 2020's 1214 for
# 2025's 2500, and gave a GDP figure the documents do not hold, citing a passage that
# holds "1.5" elsewhere). They run on every CI build and turn XPASS when answers improve.
KNOWN_MODEL_GAP = pytest.mark.xfail(strict=False, reason="issue 3: small-model answer quality")


def _document(service: RagService, name: str) -> str:
    return (service.settings.corpus_dir / name).read_text(encoding="utf-8")


@KNOWN_MODEL_GAP
def test_number_is_answered_with_a_citation_to_its_passage(answering_service: RagService) -> None:
    answer = answering_service.ask("高新区“十四五”规划中,2025年高新技术企业要达到多少家?")
    assert not answer.refused, answer.text
    assert "2500" in answer.text
    assert answer.citations, answer.text
    cited = answer.citations[0]
    assert cited.source == "004_c8c838cd66009828.txt"
    assert _document(answering_service, cited.source)[cited.start : cited.end] == cited.text
    assert (
        "2500"
        in answering_service.retriever()
        .kb.catalog.chunk_rows([cited.chunk_id])[cited.chunk_id]
        .text
    )
    assert f"[{cited.n}]" in answer.text


@KNOWN_MODEL_GAP
def test_question_the_corpus_cannot_answer_is_refused(answering_service: RagService) -> None:
    answer = answering_service.ask("济南市2024年全年地区生产总值是多少?")
    assert answer.refused, answer.text
    assert "没有找到" in answer.text and answer.citations == []


@KNOWN_MODEL_GAP
def test_follow_up_is_understood(answering_service: RagService) -> None:
    first = answering_service.ask("高新区“十四五”规划中,2025年高新技术企业要达到多少家?")
    history = [ChatMessage("user", first.question), ChatMessage("assistant", first.text)]
    follow = answering_service.ask("那上市企业数呢?", history)
    assert "上市" in follow.standalone_question and "高新区" in follow.standalone_question
    assert not follow.refused, follow.text
    assert "130" in follow.text
