"""The answer pipeline end to end with the real retriever and a scripted model."""

from __future__ import annotations

import dataclasses

from rag.answer.pipeline import AnswerPipeline, AnswerSettings, Prompts, answer_language
from rag.service import RagService
from rag.types import ChatMessage, Done, Replace, Token
from tests.fakes.chat_model import FakeChatModel


def _pipeline(service: RagService, reply) -> AnswerPipeline:  # type: ignore[no-untyped-def]
    service.ingest(progress=False)
    return AnswerPipeline(
        service.retriever(),
        FakeChatModel(reply),
        Prompts.load(service.settings.prompts_dir),
        AnswerSettings.from_settings(service.settings),
    )


def test_answer_streams_and_cites_the_right_passage(service: RagService) -> None:
    pipeline = _pipeline(service, "示范区计划新建5G基站6000个[3]。")
    events = list(pipeline.stream("示范区要新建多少个5G基站?"))
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert len(tokens) > 1  # streamed in pieces
    answer = events[-1].answer  # type: ignore[union-attr]
    assert isinstance(events[-1], Done) and answer is not None and not answer.refused
    assert answer.text == "".join(tokens).strip() == "示范区计划新建5G基站6000个[1]。"
    (citation,) = answer.citations
    document = (service.settings.corpus_dir / citation.source).read_text(encoding="utf-8")
    assert document[citation.start : citation.end] == citation.text
    assert "新建5G基站6000个" in citation.text
    assert set(answer.timings) >= {"retrieve_ms", "first_token_ms", "total_ms"}
    data = answer.to_json()
    assert set(data) >= {"answer", "citations", "refused", "retrieved", "timings"}


def test_prompt_carries_passages_and_question_and_rules(service: RagService) -> None:
    pipeline = _pipeline(service, "新建5G基站6000个[1]。")
    pipeline.answer("示范区要新建多少个5G基站?")
    system, user = pipeline.llm.calls[-1]  # type: ignore[attr-defined]
    assert system.role == "system" and "资料" in system.content
    assert "[1] " in user.content and "示范区要新建多少个5G基站?" in user.content
    assert "中文" in user.content
    assert user.content.index("示范区要新建多少个5G基站?") < user.content.index("[1] ")


def test_whole_passages_come_before_the_question_asked_once(service: RagService) -> None:
    pipeline = _pipeline(service, "新建5G基站6000个[1]。")
    pipeline.settings = dataclasses.replace(pipeline.settings, whole_passages=True)
    pipeline.answer("示范区要新建多少个5G基站?")
    _, user = pipeline.llm.calls[-1]  # type: ignore[attr-defined]
    # what a model computes reading a passage must not depend on the question, so
    # that it can be kept (passage states, issue 15)
    assert user.content.index("[1] ") < user.content.index("示范区要新建多少个5G基站?")
    assert user.content.count("示范区要新建多少个5G基站?") == 1
    assert "\n\n[2] " in user.content


def test_question_about_a_missing_year_is_refused_without_generating(service: RagService) -> None:
    pipeline = _pipeline(service, "不应被调用")
    answer = pipeline.answer("示范区2031年新建多少个5G基站?")
    assert answer.refused and "2031" in (answer.refusal_reason or "")
    assert "资料中没有找到" in answer.text and "jinan" in answer.text  # says what was searched
    assert pipeline.llm.calls == []  # type: ignore[attr-defined]


def test_invented_number_turns_into_a_refusal(service: RagService) -> None:
    pipeline = _pipeline(service, "示范区新建5G基站9999个[1]。")
    events = list(pipeline.stream("示范区要新建多少个5G基站?"))
    assert any(isinstance(e, Replace) for e in events)
    answer = events[-1].answer  # type: ignore[union-attr]
    assert answer is not None and answer.refused and answer.citations == []
    assert "9999" in (answer.refusal_reason or "")


def test_model_refusal_is_reported_as_refused(service: RagService) -> None:
    answer = _pipeline(service, "资料中没有找到相关信息。").answer("示范区要新建多少个5G基站?")
    assert answer.refused


def test_follow_up_is_rewritten_before_retrieval(service: RagService) -> None:
    def reply(messages: list[ChatMessage]) -> str:
        if "完整问题" in messages[-1].content:  # the rewrite prompt
            return "示范区新能源汽车产量的目标是多少?"
        return "新能源汽车产量突破20万辆[1]。"

    pipeline = _pipeline(service, reply)
    history = [
        ChatMessage("user", "示范区要新建多少个5G基站?"),
        ChatMessage("assistant", "6000个[1]。"),
    ]
    answer = pipeline.answer("那新能源汽车呢?", history)
    assert answer.standalone_question == "示范区新能源汽车产量的目标是多少?"
    assert "示范区要新建多少个5G基站" in pipeline.llm.calls[0][0].content  # type: ignore[attr-defined]
    assert answer.retrieved[0].source == "plan.txt" and "20万辆" in answer.retrieved[0].text
    assert not answer.refused and "20万辆" in answer.text


def test_language_follows_the_question() -> None:
    assert answer_language("示范区要新建多少个5G基站?") == "中文"
    assert answer_language("How many 5G base stations will be built?") == "English"


def test_answer_with_no_supported_sentence_is_refused(service: RagService) -> None:
    # a real number from the corpus, attached to the wrong subject and unsupported
    answer = _pipeline(service, "示范区常住人口和外来务工人员家庭共6000个。").answer(
        "示范区要新建多少个5G基站?"
    )
    assert answer.refused
    assert answer.refusal_reason == "no sentence of the answer is supported by a passage"


def test_an_answer_in_another_language_than_its_passage_is_cited_once_read_in_its_one(
    settings,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from tests.fakes.embedder import HashingEmbedder

    page = tmp_path / "en"
    page.mkdir()
    (page / "cli.md").write_text(
        "Command-line arguments\n\n--test: run code examples as tests, with the test runner.",
        encoding="utf-8",
    )
    (page / "lints.md").write_text(
        "Lints\n\nmissing_docs: warns when a public item has no documentation.",
        encoding="utf-8",
    )

    def reply(messages: list[ChatMessage]) -> str:
        prompt = messages[-1].content
        if prompt.startswith("Translate this question"):
            return "Which code examples does --test run as tests?"
        if prompt.startswith("Translate each numbered sentence"):
            assert "1. 它把代码示例当作测试来运行" in prompt
            return "1. It runs code examples as tests."
        return "它把代码示例当作测试来运行[1]。"

    model = FakeChatModel(reply)
    service = RagService(settings, embedder=HashingEmbedder(), llm=model)
    service.ingest([page], kb="en", progress=False)
    events = list(service.stream("rustdoc 的 --test 会运行什么？", kb="en"))
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert streamed == "它把代码示例当作测试来运行。"  # no citation while it streams
    (replaced,) = [e for e in events if isinstance(e, Replace)]
    assert not replaced.withdrawn and replaced.text == "它把代码示例当作测试来运行[1]。"
    answer = events[-1].answer  # type: ignore[union-attr]
    assert not answer.refused and answer.text == replaced.text
    assert "run code examples as tests" in answer.citations[0].text
    assert answer.evidence["reread"]["supported"] == 1
    assert "reread_ms" in answer.timings

    # switched off, the sentence stays unsupported and the answer is refused
    pipeline = service.answer_pipeline("en")
    pipeline.settings = dataclasses.replace(pipeline.settings, reread=False)
    calls = len(model.calls)
    answer = pipeline.answer("rustdoc 的 --test 会运行什么？")
    assert answer.refused and "reread" not in answer.evidence
    assert len(model.calls) == calls + 1  # the answer only: the translation is remembered


def test_an_answer_naming_what_no_passage_holds_is_refused(service: RagService) -> None:
    answer = _pipeline(service, "示范区计划用 Kubernetes 新建5G基站6000个[1]。").answer(
        "示范区要新建多少个5G基站?"
    )
    assert answer.refused
    assert answer.refusal_reason == "the answer names what no passage holds: Kubernetes"
