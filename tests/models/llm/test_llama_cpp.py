import threading
import time

import llama_cpp.llama_cpp as lib
import pytest

from rag.errors import Cancelled, LLMError
from rag.models.llm.base import Generation
from rag.models.llm.llama_cpp import LlamaCppChatModel, _weight_repacking
from rag.models.llm.llama_cpp_decoding import Drafting, draft
from rag.service import RagService
from rag.types import ChatMessage


def test_repacking_switch_reaches_llama_cpp_and_is_undone() -> None:
    assert lib.llama_model_default_params().use_extra_bufts  # llama.cpp's own default
    with _weight_repacking(False):
        assert not lib.llama_model_default_params().use_extra_bufts
    with _weight_repacking(True):
        assert lib.llama_model_default_params().use_extra_bufts
    assert lib.llama_model_default_params().use_extra_bufts


def test_a_guess_is_what_followed_the_latest_earlier_occurrence_of_the_tail() -> None:
    history = [1, 2, 3, 9, 1, 2, 3, 7, 8, 5, 1, 2, 3]
    assert draft(history, Drafting(tokens=2, ngram=3, min_ngram=2)) == [7, 8]
    assert draft(history, Drafting(tokens=8, ngram=3, min_ngram=2)) == [7, 8, 5, 1, 2, 3]
    # a shorter tail when the longer one never occurred before; none below min_ngram
    assert draft([4, 2, 3, 6, 1, 2, 3], Drafting(tokens=1, ngram=3, min_ngram=2)) == [6]
    assert draft([5, 6, 3, 1, 3], Drafting(tokens=2, ngram=3, min_ngram=2)) == []
    assert draft([5, 6, 3, 1, 3], Drafting(tokens=2, ngram=3, min_ngram=1)) == [1, 3]
    assert draft(history, Drafting(tokens=0)) == []  # off


# ---------------------------------------------------------------- the real model

PASSAGE_PROMPT = [
    ChatMessage("system", "根据资料回答，并在句末标注资料编号。"),
    ChatMessage(
        "user",
        "资料：\n[1] 2020年实现地区生产总值1291.5亿元，到2025年达到2000亿元规模。"
        "新建养老机构3处，新增养老床位1200张。\n\n"
        "问题：2025年地区生产总值的目标是多少？新增多少养老床位？",
    ),
]


@pytest.mark.real_model
def test_our_greedy_loop_chooses_the_tokens_llama_cpp_python_chooses(
    answering_service: RagService,
) -> None:
    llm = answering_service.llm
    assert isinstance(llm, LlamaCppChatModel)
    chat = [{"role": m.role, "content": m.content} for m in PASSAGE_PROMPT]
    with llm._lock:
        llm.decoder.forget()
        llm._llm.reset()
        chunks = llm._llm.create_chat_completion(
            messages=chat,  # type: ignore[arg-type]
            max_tokens=60,
            temperature=0.0,
            stream=True,
        )
        reference = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)  # type: ignore[index]
        llm.decoder.forget()
    assert "2000" in reference and "1200" in reference
    ours = "".join(llm.stream(PASSAGE_PROMPT, Generation(60)))
    assert ours == reference
    # the prompt now comes from the cache but for its last token, read again alone (its
    # logits are needed): the same answer, give or take a near tie
    again = "".join(llm.stream(PASSAGE_PROMPT, Generation(60)))
    assert "2000" in again and "1200" in again


@pytest.mark.real_model
def test_guesses_from_the_prompt_are_read_and_kept(answering_service: RagService) -> None:
    """With guessing on, the passage's figures are copied in batches the model agrees
    with; the answer still says what the passage says."""
    llm = answering_service.llm
    assert isinstance(llm, LlamaCppChatModel)
    before = llm.decoder.drafting
    llm.decoder.drafting = Drafting(tokens=6)
    llm.decoder.drafted = llm.decoder.accepted = 0
    try:
        answer = "".join(llm.stream(PASSAGE_PROMPT, Generation(60)))
    finally:
        llm.decoder.drafting = before
    assert "2000" in answer and "1200" in answer
    assert 0 < llm.decoder.accepted <= llm.decoder.drafted


LONG_PROMPT = [
    ChatMessage("system", "你是一个助手。"),
    # about 900 tokens: 15-20 s to read on 2 cores, so a stop mid-prompt is visible
    ChatMessage(
        "user", "请总结下面的文字。\n" + "济南市推进新旧动能转换，建设现代化产业体系。" * 60
    ),
]


@pytest.mark.real_model
def test_a_cancel_stops_llama_cpp_in_the_middle_of_the_prompt(
    answering_service: RagService,
) -> None:
    llm = answering_service.llm
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        list(llm.stream(LONG_PROMPT, Generation(50, cancel=cancel)))
    assert time.monotonic() - started < 3.0  # not the 15 s the whole prompt takes

    # the model is usable at once, and answers as if nothing had happened
    short = [ChatMessage("user", "1+1等于几？只回答数字。")]
    after = "".join(llm.stream(short, Generation(5, cancel=threading.Event())))
    fresh = "".join(llm.stream(short, Generation(5)))
    assert after == fresh and "2" in after


@pytest.mark.real_model
def test_a_prompt_longer_than_the_context_is_a_clear_error(
    answering_service: RagService,
) -> None:
    too_long = [ChatMessage("user", "济南 高新区 " * 3000)]
    with pytest.raises(LLMError, match="RAG_LLM_CONTEXT_TOKENS"):
        list(answering_service.llm.stream(too_long, Generation(10)))
    short = [ChatMessage("user", "1+1等于几？只回答数字。")]
    assert "2" in "".join(answering_service.llm.stream(short, Generation(5)))
