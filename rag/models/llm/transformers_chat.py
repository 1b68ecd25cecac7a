"""A Hugging Face model folder through transformers (slower on CPU than llama.cpp)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from rag.models.llm.base import Generation
from rag.types import ChatMessage


class TransformersChatModel:
    def __init__(self, model_dir: Path, threads: int = 2):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self._model = AutoModelForCausalLM.from_pretrained(
            str(model_dir), dtype=torch.float32
        ).eval()  # type: ignore[no-untyped-call]
        self.model_id = f"transformers:{Path(model_dir).name}"
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()  # set when this stream ends early, for whatever reason

        class StopWhenCancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stop.is_set() or (how.cancel is not None and how.cancel.is_set())

        prompt = self._tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in messages],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(
            **cast(dict[str, Any], prompt),
            max_new_tokens=how.max_tokens,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([StopWhenCancelled()]),
            do_sample=how.temperature > 0,
            **({"temperature": how.temperature} if how.temperature > 0 else {}),
        )
        with self._lock:
            worker = threading.Thread(target=self._model.generate, kwargs=kwargs, daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    how.check()
                    yield piece
            finally:
                stop.set()  # a consumer that stops reading stops generation too
                worker.join()
