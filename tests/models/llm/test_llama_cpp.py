import threading
import time

import llama_cpp.llama_cpp as lib
import pytest

from rag.errors import Cancelled
from rag.models.llm.base import Generation
from rag.models.llm.llama_cpp import _weight_repacking
from rag.service import RagService
from rag.types import ChatMessage


def test_repacking_switch_reaches_llama_cpp_and_is_undone() -> None:
    assert lib.llama_model_default_params().use_extra_bufts  # llama.cpp's own default
    with _weight_repacking(False):
        assert not lib.llama_model_default_params().use_extra_bufts
    with _weight_repacking(True):
        assert lib.llama_model_default_params().use_extra_bufts
    assert lib.llama_model_default_params().use_extra_bufts


# ---------------------------------------------------------------- the real model

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
