"""Suggested questions: written from the knowledge base's passages, kept only when
answered from them; the real model writes and answers them."""

from __future__ import annotations

import pytest

from rag.answer.suggestions import Suggestion, from_json, pick_passages, to_json
from rag.service import RagService
from rag.store.knowledge_base import KnowledgeBase


def test_passages_are_spread_over_documents_and_rich_in_facts(service: RagService) -> None:
    service.ingest(progress=False)
    kb = KnowledgeBase.open_existing(service.settings)
    rows = list(kb.catalog.chunk_rows(kb.snapshot().chunk_ids).values())
    picked = pick_passages(rows, 3)
    assert len({r.source for r in picked}) == 3  # one from each document first
    plan = [r for r in rows if r.source == "plan.txt"]
    best = next(r for r in picked if r.source == "plan.txt")
    assert any(ch.isdigit() for ch in best.text) or len(plan) == 1


def test_stored_suggestions_survive_only_with_their_passages(service: RagService) -> None:
    service.ingest(progress=False)
    kb = KnowledgeBase.open_existing(service.settings)
    ids = kb.snapshot().chunk_ids
    made = [Suggestion("还在吗？", ids[0]), Suggestion("已删除？", 10_000_000)]
    kb.catalog.set_meta("suggested_questions", to_json(made, kb.catalog.generation()))
    assert service.suggested_questions() == ["还在吗？"]
    assert not service.suggestions_outdated()
    assert from_json(None) == (-1, [])
    service.ingest([service.settings.corpus_dir / "plan.txt"], kb="other", progress=False)
    assert service.suggested_questions("other") == []
    assert service.suggested_questions("missing") == []


@pytest.mark.real_model
def test_every_suggestion_is_answered_with_a_citation_by_the_real_model(
    bundled_service: RagService,
) -> None:
    made = bundled_service.make_suggestions(count=2, progress=False)
    assert made, "no question written from the bundled reports was answered"
    assert bundled_service.suggested_questions() == made
    for question in made:
        answer = bundled_service.ask(question)
        assert not answer.refused and answer.citations, (question, answer.text)


def test_only_questions_are_kept_from_what_the_model_writes() -> None:
    from string import Template

    from rag.answer.suggestions import write_question
    from tests.fakes.chat_model import FakeChatModel

    template = Template("$language $passage")
    asked = write_question(FakeChatModel("“规上工业企业力争突破多少家？”\n"), template, "段落")
    assert asked == "规上工业企业力争突破多少家？"
    statement = "这些措施都是为了提高市民的居住条件和生活质量。"
    assert write_question(FakeChatModel(statement), template, "段落") == ""
    assert write_question(FakeChatModel("How many threads?"), template, "passage") != ""
