"""The default backend: llama.cpp running a GGUF on the CPU."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from rag.errors import Cancelled, LLMError
from rag.models.llm.base import Generation
from rag.models.llm.llama_cpp_decoding import Drafting, GreedyDecoder
from rag.types import ChatMessage


class LlamaCppChatModel:
    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        threads: int = 2,
        repack: bool = False,
        draft_tokens: int = 0,
        model_id: str | None = None,
    ):
        # Without a passive wait policy, 2 OpenMP threads on 2 busy cores spin and
        # generation swings from 30 down to 1 token/s (MODELS.md). Must precede the import.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMError("llama-cpp-python is not installed; run `make setup`") from exc
        with _weight_repacking(repack):
            self._llm = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                flash_attn=True,
                verbose=False,
            )
        self.model_id = model_id or model_path.name
        # One context, one generation at a time; the server queues requests in front.
        self._lock = threading.Lock()
        self._format = _chat_formatter(self._llm)
        self.decoder = GreedyDecoder(self._llm, Drafting(tokens=draft_tokens))
        for stop in self._format(messages=[{"role": "user", "content": "?"}]).stop or []:
            tokens = self._tokens(stop if isinstance(stop, str) else "")
            if len(tokens) == 1:  # "<|im_end|>": a stop token, not a string to watch for
                self.decoder.stop.add(tokens[0])

    def stream(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        if how.temperature == 0:
            yield from self._greedy(messages, how)
            return
        cancel = how.cancel
        with self._lock, self._abort_on(cancel):
            how.check()
            # llama-cpp-python keeps its own account of what the cache holds
            self.decoder.forget()
            cast(Any, self._llm).reset()
            chunks = self._llm.create_chat_completion(
                messages=cast(Any, [{"role": m.role, "content": m.content} for m in messages]),
                max_tokens=how.max_tokens,
                temperature=how.temperature,
                stream=True,
            )
            try:
                for chunk in cast(Iterator[dict[str, Any]], chunks):
                    piece = chunk["choices"][0]["delta"].get("content")
                    if isinstance(piece, str) and piece:
                        yield piece
                    how.check()
            except RuntimeError as exc:  # llama_decode returned 2: our abort callback
                if cancel is not None and cancel.is_set():
                    raise Cancelled from exc
                raise LLMError(f"llama.cpp failed: {exc}") from exc
            finally:
                close = getattr(chunks, "close", None)
                if close:
                    close()
                self.decoder.forget()

    def _greedy(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        """Greedy answers go through our own loop, which guesses ahead from the prompt
        (llama_cpp_decoding.py); the tokens are those plain greedy decoding chooses."""
        cancel = how.cancel
        chat = [{"role": m.role, "content": m.content} for m in messages]
        with self._lock, self._abort_on(cancel):
            how.check()
            prompt = self._tokens(self._format(messages=chat).prompt)
            try:
                yield from self.decoder.generate(prompt, how.max_tokens, how.check)
            except ValueError as exc:
                raise LLMError(str(exc)) from exc
            except RuntimeError as exc:  # llama_decode returned 2: our abort callback
                if cancel is not None and cancel.is_set():
                    raise Cancelled from exc
                raise LLMError(f"llama.cpp failed: {exc}") from exc

    def _tokens(self, text: str) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    @contextmanager
    def _abort_on(self, cancel: threading.Event | None) -> Iterator[None]:
        """While this stream runs, llama.cpp asks `cancel` between the steps of every
        computation, so a prompt that takes 10 s to read stops within milliseconds."""
        if cancel is None:
            yield
            return
        import llama_cpp

        callback = llama_cpp.ggml_abort_callback(lambda _data: cancel.is_set())
        ctx = self._llm._ctx.ctx
        llama_cpp.llama_set_abort_callback(ctx, callback, None)
        try:
            yield
        finally:
            llama_cpp.llama_set_abort_callback(ctx, llama_cpp.ggml_abort_callback(), None)  # NULL


def _chat_formatter(llm: Any) -> Any:
    """The model's own chat template (from its GGUF), as llama-cpp-python applies it."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise LLMError("the GGUF has no chat template; use a chat (instruct) model")

    def text(token: int) -> str:
        return str(llm._model.token_get_text(token)) if token >= 0 else ""

    return llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=text(llm.token_eos()), bos_token=text(llm.token_bos())
    )


_params_lock = threading.Lock()


@contextmanager
def _weight_repacking(enabled: bool) -> Iterator[None]:
    """llama.cpp repacks Q4_K weights for its AVX2 kernels unless told not to (the CLI's
    --no-repack). On this 2-core EPYC prompts ran faster without it
    (benchmarks/bench_llama_speed.py), and llama-cpp-python has no argument for it, so
    the default model parameters are wrapped while the model loads."""
    import llama_cpp.llama_cpp as lib

    with _params_lock:
        defaults = lib.llama_model_default_params

        def params() -> Any:
            p = defaults()
            p.use_extra_bufts = enabled
            return p

        lib.llama_model_default_params = params
        try:
            yield
        finally:
            lib.llama_model_default_params = defaults
