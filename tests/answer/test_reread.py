"""Reading an answer's sentences in the passages' language."""

from __future__ import annotations

from string import Template

import pytest

from rag.answer.citations import MIN_TERM_SUPPORT, support
from rag.answer.reread import needs_reading, translate_sentences
from rag.service import RagService
from rag.types import ChatMessage
from tests.answer.helpers import PASSAGES, passage
from tests.fakes.chat_model import FakeChatModel

ENGLISH = passage(3, "By default, output appears in a directory named doc.", source="cli.md")
TEMPLATE = Template("Translate into $language:\n$sentences")


def test_only_sentences_in_another_language_than_a_passage_are_read_again() -> None:
    unsupported = {0: "输出默认放在 doc 目录。", 2: "Output goes to doc."}
    assert needs_reading(unsupported, [ENGLISH]) == ("en", {0: "输出默认放在 doc 目录。"})
    assert needs_reading(unsupported, [PASSAGES[0]]) == ("zh", {2: "Output goes to doc."})
    assert needs_reading({0: "输出默认放在 doc 目录。"}, PASSAGES) == ("", {})
    assert needs_reading({}, [ENGLISH]) == ("", {})


def test_sentences_are_translated_in_one_call_and_matched_by_number() -> None:
    def reply(messages: list[ChatMessage]) -> str:
        assert "1. 输出默认放在 doc 目录。\n2. 它运行测试。" in messages[0].content
        assert "English" in messages[0].content
        return "Here you are:\n1. Output goes to the doc directory by default.\n2) It runs tests.\n7. extra"

    model = FakeChatModel(reply)
    readings = translate_sentences(
        {4: "输出默认放在 doc 目录。", 9: "它运行测试。"}, "en", model, TEMPLATE
    )
    assert readings == {4: "Output goes to the doc directory by default.", 9: "It runs tests."}
    assert len(model.calls) == 1


def test_a_reply_without_numbered_lines_reads_nothing_unless_one_was_asked() -> None:
    model = FakeChatModel("It runs tests.\nI hope this helps.")
    assert translate_sentences({0: "它运行测试。", 1: "它很快。"}, "en", model, TEMPLATE) == {}
    assert translate_sentences({0: "它运行测试。"}, "en", model, TEMPLATE) == {}
    model = FakeChatModel("It runs tests.")
    assert translate_sentences({5: "它运行测试。"}, "en", model, TEMPLATE) == {5: "It runs tests."}


@pytest.mark.real_model
def test_the_bundled_model_reads_an_answer_in_the_passages_language(
    answering_service: RagService,
) -> None:
    page = passage(
        1,
        "html_logo_url: This form of the doc attribute lets you control the logo in the "
        "upper left hand side of the docs. If you don't set it, no logo is shown.",
        source="the-doc-attribute.html",
    )
    sentence = "如果不设置 html_logo_url，文档左上角不会显示 logo。"
    assert support(sentence, page, asked="html_logo_url 不设置会怎样？") < MIN_TERM_SUPPORT
    prompts = answering_service.prompts
    readings = translate_sentences(
        {0: sentence}, "en", answering_service.llm, prompts.translate_answer
    )
    assert support(readings[0], page) >= MIN_TERM_SUPPORT, readings
