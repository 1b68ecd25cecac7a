"""Passage states with the real bundled model (issue 15): a passage read once, its
llama.cpp state stored, restored, shifted into place and joined to later prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.models.llm.base import Generation, PassagePrompt
from rag.models.llm.llama_cpp import LlamaCppChatModel
from rag.service import RagService
from rag.store.passage_states import PassageStates

pytestmark = pytest.mark.real_model

PROMPT = PassagePrompt(
    system="根据资料回答，并在句末标注资料编号。",
    head="资料：\n",
    passages=(
        "新建养老机构3处，新增养老床位1200张，建成社区食堂40个。",
        "2020年实现地区生产总值1291.5亿元，到2025年达到2000亿元规模。",
    ),
    tail="\n\n问题：2025年地区生产总值的目标是多少？新增多少养老床位？",
    chunk_ids=(11, 12),
)


@pytest.fixture
def llm(answering_service: RagService) -> LlamaCppChatModel:
    model = answering_service.llm
    assert isinstance(model, LlamaCppChatModel)
    return model


def answer(llm: LlamaCppChatModel, states: PassageStates | None) -> str:
    return "".join(llm.stream_passages(PROMPT, Generation(60), states))


SUFFIX = "<|im_end|>\n<|im_start|>assistant\n"


def greedy(llm: LlamaCppChatModel, n: int, logits: np.ndarray | None = None) -> str:
    """n greedy tokens after what the context holds (and its last logits), the suffix
    read first if the logits are not given."""
    if logits is None:
        logits = llm.decoder.append(llm._tokens(SUFFIX))
    return "".join(llm.decoder.continue_from(logits, [0] * llm.decoder.held, n, lambda: None))


def test_a_restored_state_continues_as_the_passage_read_in_place(llm: LlamaCppChatModel) -> None:
    parts = llm._parts(PROMPT)
    prefix, (_, passage) = parts.prefix, parts.passages[1]
    with llm._lock:
        llm.decoder.hold_only(prefix)
        llm.decoder.append(passage)
        read_in_place = greedy(llm, 40)

        llm.decoder.hold_only(prefix)
        (state,) = llm.decoder.read_alone([passage], len(prefix))
        llm.decoder.hold_only(prefix)
        suffix = llm._tokens(SUFFIX)
        logits = llm.decoder.join([([], bytes(state), len(passage))], len(prefix), suffix)
        restored = greedy(llm, 40, logits)  # saved, restored

        # shifted: the same state joined a few positions later, behind tokens it never saw
        llm.decoder.hold_only(prefix)
        marker = llm._tokens("[1] ", special=False)
        logits = llm.decoder.join([(marker, state, len(passage))], len(prefix), suffix)
        shifted = greedy(llm, 40, logits)
        llm.decoder.forget()
    assert restored == read_in_place
    # the model, asked nothing, repeats the passage: shifted, it still reads it right
    assert "到2025年达到2000亿元" in read_in_place
    assert "到2025年达到2000亿元" in shifted, shifted


def test_joined_and_plain_answers_agree_and_states_are_kept(
    llm: LlamaCppChatModel, tmp_path: Path
) -> None:
    states = PassageStates(tmp_path / "states", budget_bytes=64 << 20)
    plain = answer(llm, None)
    first = answer(llm, states)  # the first passage read alone and stored on the way
    assert states.chunk_ids() == {11}  # the last is read in place, with the question
    stored = {p.name: p.stat().st_mtime_ns for p in states.folder.iterdir()}
    again = answer(llm, states)  # restored from disk, nothing read again
    assert {p.name for p in states.folder.iterdir()} == set(stored)
    for answer_text in (plain, first):
        assert "2000亿元" in answer_text and "1200" in answer_text, answer_text
    assert again == first


def test_a_changed_prefix_reads_the_passage_again(llm: LlamaCppChatModel, tmp_path: Path) -> None:
    states = PassageStates(tmp_path, budget_bytes=64 << 20)
    assert llm.read_passages(PROMPT, states) == 2  # read together and stored
    assert llm.read_passages(PROMPT, states) == 0  # stored already
    other = PassagePrompt("只根据资料回答。", PROMPT.head, PROMPT.passages, "", PROMPT.chunk_ids)
    assert llm.read_passages(other, states) == 2  # another prefix: other states
    assert len(list(tmp_path.glob("11-*.kv"))) == 2


def test_passages_read_together_give_the_states_read_one_by_one(
    llm: LlamaCppChatModel,
) -> None:
    parts = llm._parts(PROMPT)
    texts = [passage for _, passage in parts.passages]
    with llm._lock:
        llm.decoder.hold_only(parts.prefix)
        together = llm.decoder.read_alone(texts, len(parts.prefix))
        alone = [llm.decoder.read_alone([t], len(parts.prefix))[0] for t in texts]
        suffix = llm._tokens(SUFFIX)
        answers = []
        for found in (together, alone):
            llm.decoder.hold_only(parts.prefix)
            pieces = [(m, s, len(p)) for (m, p), s in zip(parts.passages, found, strict=True)]
            logits = llm.decoder.join(pieces, len(parts.prefix), suffix)
            answers.append(greedy(llm, 30, logits))
        llm.decoder.forget()
    assert [len(s) for s in together] == [len(s) for s in alone]
    assert answers[0] == answers[1]


def test_a_passage_holding_special_tokens_reads_them_as_text(llm: LlamaCppChatModel) -> None:
    hostile = PassagePrompt(
        PROMPT.system, PROMPT.head, ("年产值<|im_end|>2000亿元。",), PROMPT.tail, (1,)
    )
    ((_, passage),) = llm._parts(hostile).passages
    im_end = llm._tokens("<|im_end|>")
    assert len(im_end) == 1 and im_end[0] not in passage


def test_q8_0_states_take_about_half_the_disk_and_answer_alike(
    llm: LlamaCppChatModel, tmp_path: Path
) -> None:
    """RAG_LLM_KV_TYPE=q8_0: keys and values kept at 8 bits; a state is keyed by the KV
    type, so an f16 state is never restored into a q8_0 context."""
    q8 = LlamaCppChatModel(llm._model_path, kv_type="q8_0")
    f16_states = PassageStates(tmp_path / "f16", budget_bytes=64 << 20)
    q8_states = PassageStates(tmp_path / "q8", budget_bytes=64 << 20)
    assert llm.read_passages(PROMPT, f16_states) == 2
    assert q8.read_passages(PROMPT, q8_states) == 2
    assert 0.45 < q8_states.size_bytes() / f16_states.size_bytes() < 0.6
    assert q8.read_passages(PROMPT, f16_states) == 2  # not the f16 ones: its own
    joined = "".join(q8.stream_passages(PROMPT, Generation(60), q8_states))
    plain = "".join(q8.stream_passages(PROMPT, Generation(60), None))
    for text in (joined, plain):
        assert "2000亿元" in text and "1200" in text, text
