"""The answer pipeline, in the order data flows:

rewrite a follow-up -> retrieve -> choose passages -> check the evidence (refuse early)
-> generate, streaming, with citations checked sentence by sentence -> re-read in the
passages' language what another language left unsupported -> check the draft -> final.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from typing import Any

from rag.answer.checks import Draft, first_objection
from rag.answer.checks.declined import is_model_refusal
from rag.answer.checks.evidence import EvidenceCheck, check_evidence, term_weight
from rag.answer.checks.invented import invented_numbers
from rag.answer.citations import CitationStreamer
from rag.answer.context import select_passages
from rag.answer.question import check_question
from rag.answer.reread import needs_reading, translate_sentences
from rag.answer.rewrite import standalone_question
from rag.models.llm.base import (
    ChatModel,
    Generation,
    PassagePrompt,
    PassageReader,
    StateCache,
    stream_prompt,
)
from rag.retrieve.hybrid import HybridRetriever
from rag.settings import Settings
from rag.text.instructions import mask_instructions
from rag.types import (
    Answer,
    AnswerEvent,
    ChatMessage,
    Citation,
    Done,
    Passage,
    Reading,
    Replace,
    SearchHit,
    Token,
)


@dataclass(frozen=True)
class Prompts:
    system: str
    user: Template  # the question, the passages cut to it, the question again
    user_whole: Template  # whole passages first, then the question (passage states)
    rewrite: Template
    translate: Template
    translate_answer: Template  # puts an answer's sentences into the passages' language
    question: Template  # writes a suggested question from a passage

    def answer_parts(self, whole: bool) -> tuple[Template, Template]:
        """The user turn before and after its passages."""
        template = self.user_whole if whole else self.user
        head, _, tail = template.template.partition("$passages")
        return Template(head), Template(tail)

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        def read(name: str) -> str:
            path = folder / name
            if not path.exists():
                raise FileNotFoundError(f"prompt template {path} is missing; restore it from git")
            return path.read_text(encoding="utf-8")

        def read_answer(name: str) -> Template:
            text = read(name)
            if text.count("$passages") != 1:
                raise ValueError(f"{folder / name} must hold $passages once, where they go")
            return Template(text)

        whole = read_answer("answer_user_whole.txt")
        if "$question" in whole.template.partition("$passages")[0]:
            raise ValueError(
                f"{folder / 'answer_user_whole.txt'}: the passages must come before $question"
                " (what the model computes reading them is kept for every question)"
            )
        return cls(
            read("answer_system.txt").strip(),
            read_answer("answer_user.txt"),
            whole,
            Template(read("rewrite.txt")),
            Template(read("translate.txt")),
            Template(read("translate_answer.txt")),
            Template(read("question.txt")),
        )


@dataclass(frozen=True)
class AnswerSettings:
    passages: int
    context_chars: int
    max_tokens: int
    min_coverage: float  # of the question, by the passages, before generating
    max_question_chars: int
    timeout_s: float  # generation stops here even if max_tokens is not reached
    # translate what passages in another language left unsupported and check it again
    reread: bool = True
    whole_passages: bool = False  # never cut a passage to the question (passage states)

    @classmethod
    def from_settings(cls, s: Settings) -> AnswerSettings:
        return cls(
            s.answer_passages,
            s.answer_context_chars,
            s.llm_max_tokens,
            s.refusal_min_coverage,
            s.max_question_chars,
            s.answer_timeout_s,
            s.translate_questions,
            s.passage_states or s.answer_whole_passages,
        )


def answer_language(question: str) -> str:
    cjk = sum(1 for ch in question if "\u4e00" <= ch <= "\u9fff")
    return "中文" if cjk >= max(1, len(question.strip()) // 5) else "English"


def refusal_text(language: str, kb: str, passages: list[Passage]) -> str:
    closest = sorted(passages, key=lambda p: p.hit.rank)[:3]
    seen = list(
        dict.fromkeys(
            f"{p.hit.source}（{p.hit.section.split(' > ')[-1] or '正文'}）" for p in closest
        )
    )
    if language == "English":
        where = "; ".join(seen) or "nothing relevant"
        return (
            f"The documents do not answer this question. I searched the knowledge base "
            f"'{kb}'; the closest passages were in: {where}."
        )
    where = "；".join(seen) or "没有相关内容"
    return f"资料中没有找到能回答这个问题的内容。已检索知识库「{kb}」，最接近的内容在：{where}。"


class AnswerPipeline:
    def __init__(
        self,
        retriever: HybridRetriever,
        llm: ChatModel,
        prompts: Prompts,
        settings: AnswerSettings,
        states: StateCache | None = None,
    ):
        self.retriever = retriever
        self.llm = llm
        self.prompts = prompts
        self.settings = settings
        self.states = states  # the passages' model states, when the backend keeps them

    def answer(self, question: str, history: Sequence[ChatMessage] = ()) -> Answer:
        final = None
        for event in self.stream(question, history):
            if isinstance(event, Done):
                final = event.answer
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        history: Sequence[ChatMessage] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        """The answer's events. Once `cancel` is set (the asker left), the model stops
        and Cancelled is raised instead of the next event."""
        started = time.perf_counter()
        timings: dict[str, float] = {}

        def mark(name: str) -> None:
            timings[name] = round((time.perf_counter() - started) * 1000, 1)

        question = check_question(question, self.settings.max_question_chars)
        standalone = standalone_question(question, history, self.llm, self.prompts.rewrite, cancel)
        mark("rewrite_ms")
        hits = self.retriever.search(standalone, self.settings.passages)
        mark("retrieve_ms")
        passages = self.choose(hits, standalone)
        yield Reading(tuple(sorted(passages, key=lambda p: p.n)))
        language = answer_language(question)
        evidence = self.evidence(standalone, passages)

        facts: dict[str, Any] = {"coverage": evidence.coverage, "missing": list(evidence.missing)}

        def finish(text: str, citations: list[Citation], refused: bool, reason: str | None) -> Done:
            mark("total_ms")
            timings.setdefault("first_token_ms", timings["total_ms"])
            return Done(
                Answer(question, standalone, text, citations, refused, hits, timings, reason, facts)
            )

        if not evidence.answerable:
            text = refusal_text(language, self.retriever.kb.name, passages)
            mark("first_token_ms")
            yield Token(text)
            early = (
                f"missing {', '.join(evidence.missing)}"
                if evidence.missing
                else f"coverage {evidence.coverage}"
            )
            yield finish(text, [], True, early)
            return

        streamer = CitationStreamer(passages, standalone)
        raw: list[str] = []
        prompt = self.prompt(standalone, passages, language)
        for piece in self._bounded(prompt, facts, cancel):
            raw.append(piece)
            out = streamer.feed(piece)
            if out:
                if "first_token_ms" not in timings:
                    mark("first_token_ms")
                yield Token(out)
        tail = streamer.close()
        if tail:
            yield Token(tail)

        reply = "".join(raw)
        if not is_model_refusal(reply) and self._reread(streamer, passages, facts, cancel):
            yield Replace(streamer.text, withdrawn=False)
        if "reread" in facts:
            mark("reread_ms")
        facts.update(
            raw=reply,
            supported_sentences=streamer.supported_sentences,
            sentences=streamer.sentences,
        )
        facts["invented_numbers"] = invented_numbers(reply, standalone, passages)
        draft = Draft(standalone, passages, reply, streamer.citations, streamer.supported_sentences)
        reason = first_objection(draft)
        if reason:
            text = refusal_text(language, self.retriever.kb.name, passages)
            yield Replace(text)
            yield finish(text, [], True, reason)
            return
        yield finish(streamer.text.strip(), streamer.citations, False, None)

    def _reread(
        self,
        streamer: CitationStreamer,
        passages: list[Passage],
        facts: dict[str, Any],
        cancel: threading.Event | None,
    ) -> bool:
        """Check again, in the passages' language, the unsupported sentences written in
        another (reread.py). True when one of them gained a citation."""
        language, foreign = needs_reading(streamer.unsupported(), passages)
        if not foreign or not self.settings.reread:
            return False
        template = self.prompts.translate_answer
        readings = translate_sentences(foreign, language, self.llm, template, cancel)
        before = streamer.supported_sentences
        gained = streamer.reread(readings)
        facts["reread"] = {
            "sentences": len(foreign),
            "supported": streamer.supported_sentences - before,
            "readings": readings,
        }
        return gained

    def evidence_for(self, question: str) -> EvidenceCheck:
        """The evidence check on the passages this question finds, as an answer runs it
        before generating (no generation needed)."""
        hits = self.retriever.search(question, self.settings.passages)
        passages = self.choose(hits, question)
        return self.evidence(question, passages)

    def choose(self, hits: list[SearchHit], question: str) -> list[Passage]:
        """The passages the model reads for `question`. With passage states the best
        comes last, next to the question: the backend reads the last one in place."""
        s = self.settings
        passages = select_passages(hits, question, s.passages, s.context_chars, s.whole_passages)
        if self.states is None:
            return passages
        return [replace(p, n=n) for n, p in enumerate(reversed(passages), start=1)]

    def evidence(self, question: str, passages: list[Passage]) -> EvidenceCheck:
        """How well the passages cover the question, its words weighed by how rare they
        are in this knowledge base and in the language."""
        snap = self.retriever.kb.search_index()
        weight = term_weight(snap.rarity)
        min_coverage = self.settings.min_coverage
        evidence = check_evidence(question, passages, min_coverage, weight)
        if not evidence.answerable and (translated := self.retriever.translation(question, snap)):
            # A question over passages in the other language shares few words with them;
            # its translation (made for the search already) is what they can cover
            evidence = max(
                evidence,
                check_evidence(translated, passages, min_coverage, weight),
                key=lambda e: (e.answerable, e.coverage),
            )
        return evidence

    def _bounded(
        self, prompt: PassagePrompt, facts: dict[str, Any], cancel: threading.Event | None
    ) -> Iterator[str]:
        """The model's stream, cut at max_tokens pieces or timeout_s: a backend that
        ignores max_tokens, or a remote one that stalls, cannot hold a worker forever."""
        deadline = time.monotonic() + self.settings.timeout_s
        how = Generation(self.settings.max_tokens, cancel=cancel)
        stream = stream_prompt(self.llm, prompt, how, self.states)
        try:
            for count, piece in enumerate(stream, start=1):
                yield piece
                if count >= self.settings.max_tokens:
                    facts["stopped"] = "max_tokens"
                    return
                if time.monotonic() > deadline:
                    facts["stopped"] = "timeout"
                    return
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()  # stops llama.cpp generating and releases its lock

    def read_ahead(self, chunks: Sequence[tuple[int, str]]) -> int:
        """Read (chunk id, text) chunks, whole, into their stored passage states before
        anyone asks (the server does it for every chunk in the background); how many
        had to be read (none when stored already or states are off)."""
        if self.states is None or not isinstance(self.llm, PassageReader) or not chunks:
            return 0
        head, _ = self.prompts.answer_parts(whole=True)
        prompt = PassagePrompt(
            self.prompts.system,
            head.safe_substitute(question="", language=""),
            tuple(mask_instructions(text) for _, text in chunks),
            "",
            tuple(chunk_id for chunk_id, _ in chunks),
        )
        return self.llm.read_passages(prompt, self.states)

    def prompt(self, question: str, passages: list[Passage], language: str) -> PassagePrompt:
        """The answer prompt: the rules and worked examples, the numbered passages, the
        question (prompts/answer_user.txt)."""
        head, tail = self.prompts.answer_parts(self.settings.whole_passages)

        def fill(part: Template) -> str:
            return part.safe_substitute(question=question, language=language)

        return PassagePrompt(
            self.prompts.system,
            fill(head),
            tuple(p.seen for p in passages),
            fill(tail),
            tuple(p.hit.chunk_id for p in passages),
        )
