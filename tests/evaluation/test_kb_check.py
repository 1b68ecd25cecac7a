"""`rag kb check`: questions written from the passages, searched, reported per document."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.service import RagService
from rag.settings import Settings
from rag.types import ChatMessage
from tests.fakes.chat_model import FakeChatModel
from tests.fakes.embedder import HashingEmbedder

FORM = "申请表填写说明：请填写姓名、部门、日期和事由，由部门负责人签字后交到办公室。"


def first_sentence_as_question(messages: Sequence[ChatMessage]) -> str:
    """A scripted question writer: the passage's first sentence, asked back."""
    passage = messages[-1].content.split("Passage:", 1)[1]
    body = passage.strip().splitlines()[-1]
    return re.split(r"[。！？]", body)[0] + "是怎样的？"


def test_the_check_names_documents_whose_passages_cannot_be_found(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "plan.txt").write_text(
        "新建5G基站6000个，实现城区全覆盖。\n\n到2025年，数字经济核心产业增加值占比达到10%。",
        encoding="utf-8",
    )
    for i in range(1, 8):  # seven copies of one form: a search cannot tell them apart
        (corpus / f"form-{i}.txt").write_text(FORM, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=corpus, cache_dir=tmp_path / "c")
    llm = FakeChatModel(first_sentence_as_question)
    service = RagService(settings, embedder=HashingEmbedder(), llm=llm)
    service.ingest(progress=False)

    report = service.check_kb(count=20, progress=False)
    by_doc = {d.source: d for d in report.documents}
    assert by_doc["plan.txt"].found == by_doc["plan.txt"].asked >= 1
    failing = [d.source for d in report.documents if d.found < d.asked]
    assert failing and all(name.startswith("form-") for name in failing)
    assert report.documents[0].source in failing  # worst first
    assert 0 < report.hit_at_5 < 1
    assert "! form-" in report.text()

    calls = len(llm.calls)
    assert service.check_kb(count=20, progress=False).hit_at_5 == report.hit_at_5
    assert len(llm.calls) == calls  # the questions are kept while the knowledge base is unchanged
    (corpus / "plan.txt").write_text("新建5G基站8000个。", encoding="utf-8")
    service.ingest(progress=False)
    service.check_kb(count=20, progress=False)
    assert len(llm.calls) > calls  # and written anew once it changed


@pytest.mark.real_model
def test_the_real_model_checks_the_bundled_reports(bundled_service: RagService) -> None:
    report = bundled_service.check_kb(count=5, progress=False)
    assert report.questions >= 4
    assert {d.source for d in report.documents} <= {
        p.name for p in bundled_service.settings.corpus_dir.iterdir()
    }
    assert report.hit_at_5 >= 0.6, report.text()
