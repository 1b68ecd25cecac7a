"""The real bundled language model answering questions on the bundled corpus."""

from __future__ import annotations

import pytest

from rag.service import RagService
from rag.types import ChatMessage

pytestmark = pytest.mark.real_model

# Issue 3 is open: the bundled 1.5B model still reads the wrong column of a table now
# and then. The one test of that runs on every CI build and turns XPASS when it improves.
KNOWN_MODEL_GAP = pytest.mark.xfail(strict=False, reason="issue 3: small-model answer quality")


def _document(service: RagService, name: str) -> str:
    return (service.settings.corpus_dir / name).read_text(encoding="utf-8")


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


def test_question_the_corpus_cannot_answer_is_refused(answering_service: RagService) -> None:
    answer = answering_service.ask("济南市2024年全年地区生产总值是多少?")
    assert answer.refused, answer.text
    assert "没有找到" in answer.text and answer.citations == []


@pytest.fixture(scope="module")
def follow_up(answering_service: RagService):
    """ "那上市企业数呢?" after a question about 高新区's 2025 targets."""
    first = answering_service.ask("高新区“十四五”规划中,2025年高新技术企业要达到多少家?")
    history = [ChatMessage("user", first.question), ChatMessage("assistant", first.text)]
    return answering_service.ask("那上市企业数呢?", history)


def test_follow_up_is_understood(follow_up) -> None:
    # rewritten with the history's place and year, then answered from the right table row
    standalone = follow_up.standalone_question
    assert "上市" in standalone and "高新区" in standalone and "2025" in standalone
    assert not follow_up.refused, follow_up.text
    assert "上市企业" in follow_up.text
    assert follow_up.citations and follow_up.citations[0].source == "004_c8c838cd66009828.txt"


@KNOWN_MODEL_GAP
def test_follow_up_gets_the_2025_figure_not_2020s(follow_up) -> None:
    # the row reads "上市企业数 … 116 … 130": the model gives 2020's 116 today
    assert "130" in follow_up.text, follow_up.text
