"""Questions asked in one language over documents in the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.retrieve.translate import other_language
from rag.service import RagService
from rag.settings import Settings

PAGE = (
    "Command-line arguments\n\n"
    "-V/--version: version information. This will show rustdoc's version.\n\n"
    "-o/--out-dir: output directory path. By default, output appears in a directory "
    "named doc.\n\n"
    "--test: run code examples as tests, with the test runner."
)


@pytest.mark.parametrize(
    ("question", "kb_han_share", "expected"),
    [
        ("怎么查看 rustdoc 的版本号？", 0.0, "en"),  # an English knowledge base
        ("怎么查看 rustdoc 的版本号？", 0.7, "en"),  # a Chinese one with much English
        ("2025年地区生产总值的目标是多少？", 0.99, None),  # Chinese over Chinese
        ("What is the GDP target for 2025?", 0.99, "zh"),
        ("What is the GDP target for 2025?", 0.05, None),
        ("2025？", 0.5, None),  # no words to tell
        ("任何问题", None, None),  # an empty knowledge base
    ],
)
def test_when_a_question_is_also_searched_in_the_other_language(
    question: str, kb_han_share: float | None, expected: str | None
) -> None:
    assert other_language(question, kb_han_share) == expected


def english_kb(settings: Settings, tmp_path: Path, translations: dict[str, str]) -> RagService:
    from tests.fakes.embedder import HashingEmbedder

    folder = tmp_path / "en"
    folder.mkdir()
    (folder / "cli.md").write_text(PAGE, encoding="utf-8")
    service = RagService(settings, embedder=HashingEmbedder())
    service.translate_question = lambda q, lang: translations.get(q, "")  # type: ignore[method-assign]
    service.ingest([folder], kb="en", progress=False)
    return service


def test_a_chinese_question_finds_an_english_passage_through_its_translation(
    settings: Settings, tmp_path: Path
) -> None:
    question = "怎么查看版本号？"  # no word of it is in the page
    service = english_kb(settings, tmp_path, {question: "How do I see the version?"})
    [hit] = service.search(question, k=1, kb="en")
    assert "--version" in hit.text


def test_without_a_translation_the_question_is_searched_as_asked(
    settings: Settings, tmp_path: Path
) -> None:
    service = english_kb(settings, tmp_path, {})
    hits = service.search("怎么查看版本号？", k=3, kb="en")
    assert all(h.bm25_rank is None for h in hits)  # nothing matched its words


@pytest.mark.real_model
def test_the_bundled_model_translates_a_question(answering_service: RagService) -> None:
    english = answering_service.translate_question("怎么查看 rustdoc 的版本号？", "en")
    assert "rustdoc" in english.lower() and "version" in english.lower()
    chinese = answering_service.translate_question("What is the GDP target for 2025?", "zh")
    assert "2025" in chinese and any("\u4e00" <= ch <= "\u9fff" for ch in chinese)


def test_the_evidence_of_an_english_passage_is_checked_against_the_translation(
    settings: Settings, tmp_path: Path
) -> None:
    from tests.fakes.chat_model import FakeChatModel

    question = "输出目录默认叫什么名字？"
    service = english_kb(
        settings, tmp_path, {question: "What is the output directory named by default?"}
    )
    service._llm = FakeChatModel("默认输出到名为 doc 的目录 [1]。")
    answer = service.ask(question, kb="en")
    assert not answer.refused, answer.refusal_reason
    assert "doc" in answer.text and answer.citations
    # without the translation the Chinese words find nothing in the page: refused early
    service.translate_question = lambda q, lang: ""  # type: ignore[method-assign]
    service._retrievers.clear()
    refused = service.ask(question, kb="en")
    assert refused.refused and (refused.refusal_reason or "").startswith("coverage")
