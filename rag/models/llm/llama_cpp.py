"""The default backend: llama.cpp running a GGUF on the CPU."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from rag.errors import Cancelled, LLMError
from rag.models.llm.base import Generation, PassagePrompt, StateCache
from rag.models.llm.llama_cpp_decoding import SEQUENCES, Drafting, GreedyDecoder
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
        kv_type: str = "f16",
        model_id: str | None = None,
    ):
        # Without a passive wait policy, 2 OpenMP threads on 2 busy cores spin and
        # generation swings from 30 down to 1 token/s (MODELS.md). Must precede the import.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMError("llama-cpp-python is not installed; run `make setup`") from exc
        kv = _kv_types(llama_cpp)[kv_type]
        with _weight_repacking(repack), _more_sequences():
            self._llm = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                flash_attn=True,  # also what lets values be kept quantised
                type_k=kv,
                type_v=kv,
                verbose=False,
            )
        self.model_id = model_id or model_path.name
        self._model_path = model_path
        self._identity: str | None = None  # what states are keyed by, made once
        self._repack = repack
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
        with self._lock, self._abort_on(cancel), self._errors(cancel):
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
            finally:
                close = getattr(chunks, "close", None)
                if close:
                    close()
                self.decoder.forget()

    def stream_passages(
        self, prompt: PassagePrompt, how: Generation, states: StateCache | None
    ) -> Iterator[str]:
        """The reply to an answer prompt. With `states`, each passage but the last is
        not read with the prompt: its state, read once after the prompt's prefix and
        stored, is joined to the context (read alone and stored first if missing), and
        only the passages' numbers, the last passage and the question are read (issue
        15). Passages read apart cost answers; the last one read in place, seeing the
        others, won most of them back (benchmarks/passage_states.py)."""
        if how.temperature != 0:
            yield from self.stream(prompt.messages(), how)
            return
        parts = self._parts(prompt)
        cancel = how.cancel
        with self._lock, self._abort_on(cancel), self._errors(cancel):
            how.check()
            self.decoder.check_length(len(parts.tokens()))
            if states is None or not parts.passages:
                yield from self.decoder.generate(parts.tokens(), how.max_tokens, how.check)
                return
            # the last passage is read in place, with the question: it sees the others
            # (the pipeline puts the best one there); the others' states are joined
            *joined, (last_marker, last_passage) = parts.passages
            self.decoder.hold_only(parts.prefix)
            found = self._states(parts, prompt.chunk_ids[: len(joined)], states)
            pieces = [
                (marker, state, len(passage))
                for (marker, passage), state in zip(joined, found, strict=True)
            ]
            how.check()
            then = [*last_marker, *last_passage, *parts.suffix]
            logits = self.decoder.join(pieces, len(parts.prefix), then)
            yield from self.decoder.continue_from(logits, parts.tokens(), how.max_tokens, how.check)

    def read_passages(self, prompt: PassagePrompt, states: StateCache) -> int:
        parts = self._parts(prompt)
        with self._lock, self._errors(None):
            keys = [self._state_key(parts, i) for i in range(len(prompt.chunk_ids))]
            missing = [i for i, c in enumerate(prompt.chunk_ids) if not states.has(c, keys[i])]
            if missing:  # stored states are not read: a build over a kept store reads no file
                self.decoder.hold_only(parts.prefix)
                self._read_and_store(parts, missing, prompt.chunk_ids, keys, states)
            return len(missing)

    def _states(
        self, parts: PromptParts, chunk_ids: Sequence[int], states: StateCache
    ) -> list[bytes]:
        """The stored states of the first len(chunk_ids) passages; those missing are
        read alone and stored."""
        keys = [self._state_key(parts, i) for i in range(len(chunk_ids))]
        found = [states.get(c, k) for c, k in zip(chunk_ids, keys, strict=True)]
        missing = [i for i, state in enumerate(found) if state is None]
        read = self._read_and_store(parts, missing, chunk_ids, keys, states) if missing else {}
        return [state if state is not None else read[i] for i, state in enumerate(found)]

    def _read_and_store(
        self,
        parts: PromptParts,
        which: list[int],
        chunk_ids: Sequence[int],
        keys: list[str],
        states: StateCache,
    ) -> dict[int, bytes]:
        """Read passages `which` alone (together, in batches) and store their states."""
        texts = [parts.passages[i][1] for i in which]
        read = dict(zip(which, self.decoder.read_alone(texts, len(parts.prefix)), strict=True))
        for i, state in read.items():
            try:
                states.put(chunk_ids[i], keys[i], state)
            except OSError as exc:  # a full disk costs speed, not the answer
                print(f"passage state not stored: {exc}", file=sys.stderr, flush=True)
        return read

    def _state_key(self, parts: PromptParts, i: int) -> str:
        """Names a passage's state by everything that made it: the model, the context's
        settings, the prefix it was read after and its own tokens."""
        if self._identity is None:
            self._identity = self._state_identity()
        digest = hashlib.sha256(self._identity.encode())
        for tokens in (parts.prefix, parts.passages[i][1]):
            digest.update(b"|" + ",".join(map(str, tokens)).encode())
        return digest.hexdigest()[:32]

    def _state_identity(self) -> str:
        """The model file's hash (read once) and what else changes a state: the
        bindings' version, the cache's types, the attention kernel, the batch size,
        the weights' layout."""
        import llama_cpp

        p = self._llm.context_params
        knobs = {
            k: getattr(p, k, None) for k in ("type_k", "type_v", "flash_attn_type", "n_ubatch")
        }
        return (
            f"{_file_hash(self._model_path)} llama-cpp-python {llama_cpp.__version__} {knobs} "
            f"repacked {self._repack}"
        )

    def _parts(self, prompt: PassagePrompt) -> PromptParts:
        """The prompt as the model's chat template lays it out, tokenized in parts: what
        comes before the first passage, each passage's number and its text, the rest.
        The passages' text is never read as special tokens (a document holding
        "<|im_end|>" cannot end the prompt)."""
        cut = _CUT
        clean = [t.replace(cut, "") for t in prompt.passages]
        body = "".join(prompt.marker(i) + cut + t + cut for i, t in enumerate(clean))
        user = prompt.head.replace(cut, "") + cut + body + prompt.tail.replace(cut, "")
        chat = [
            {"role": "system", "content": prompt.system.replace(cut, "")},
            {"role": "user", "content": user},
        ]
        pieces = self._format(messages=chat).prompt.split(cut)
        prefix, middle, suffix = pieces[0], pieces[1:-1], pieces[-1]
        passages = [
            (self._tokens(middle[j], special=False), self._tokens(middle[j + 1], special=False))
            for j in range(0, len(middle), 2)
        ]
        return PromptParts(self._tokens(prefix), passages, self._tokens(suffix))

    @contextmanager
    def _errors(self, cancel: threading.Event | None) -> Iterator[None]:
        """llama.cpp's failures as LLMError, an abort we asked for as Cancelled."""
        try:
            yield
        except ValueError as exc:
            raise LLMError(str(exc)) from exc
        except RuntimeError as exc:  # llama_decode returned 2: our abort callback
            if cancel is not None and cancel.is_set():
                raise Cancelled from exc
            raise LLMError(f"llama.cpp failed: {exc}") from exc

    def _greedy(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        """Greedy answers go through our own loop, which guesses ahead from the prompt
        (llama_cpp_decoding.py); the tokens are those plain greedy decoding chooses."""
        cancel = how.cancel
        chat = [{"role": m.role, "content": m.content} for m in messages]
        with self._lock, self._abort_on(cancel), self._errors(cancel):
            how.check()
            prompt = self._tokens(self._format(messages=chat).prompt)
            yield from self.decoder.generate(prompt, how.max_tokens, how.check)

    def _tokens(self, text: str, special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        return list(self._llm.tokenize(data, add_bos=False, special=special))

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


_CUT = "\ue000"  # a private-use character marking where the prompt's parts meet


@dataclass(frozen=True)
class PromptParts:
    prefix: list[int]  # the system prompt and the user message up to the first passage
    passages: list[tuple[list[int], list[int]]]  # each passage's number, its text
    suffix: list[int]  # the question, the instructions, the assistant's turn

    def tokens(self) -> list[int]:
        """The whole prompt, as plain reading takes it."""
        body = [t for marker, text in self.passages for t in (*marker, *text)]
        return [*self.prefix, *body, *self.suffix]


def _kv_types(llama_cpp: Any) -> dict[str, int]:
    return {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0}


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


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


_params_lock = threading.RLock()  # both wrappers below take it


@contextmanager
def _more_sequences() -> Iterator[None]:
    """A context with room for more sequences than the answer's, all in one key/value
    cache: passages are read alone in them and their states restored there before
    they join the answer (llama_cpp_decoding.py). llama-cpp-python passes neither
    setting through, so its default context parameters are wrapped while it loads."""
    import llama_cpp.llama_cpp as lib

    with _params_lock:
        defaults = lib.llama_context_default_params

        def params() -> Any:
            p = defaults()
            p.n_seq_max, p.kv_unified = SEQUENCES, True
            return p

        lib.llama_context_default_params = params
        try:
            yield
        finally:
            lib.llama_context_default_params = defaults


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
