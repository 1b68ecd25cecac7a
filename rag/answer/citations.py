"""Check every [n] in code: a marker stays only where its passage holds the sentence's
numbers and most of its key terms; a wrong marker is repaired or dropped, and a
supported sentence without one gets one.

`CitationStreamer` does this while the answer streams: words go out as they arrive,
and only a sentence's markers and final stop wait until that sentence is complete.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from rag.text.normal import NUMBER, figures, normalize, worked_out
from rag.text.scripts import language_of
from rag.text.sentences import Line, split_sentences
from rag.text.tokens import TermWeight, tokenize
from rag.types import Citation, Passage

MARKER = re.compile(r"\s*(?:\[\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*\]|【\s*(\d+)\s*】)")
_SENTENCE_END = "。！？!?；;\n"
# "资料编号：[3]" on a line of its own: a label, not a sentence
_LABELS = ("资料编号", "资料", "来源", "参考资料", "依据", "出处", "Sources", "Source")
_LABEL_ONLY = re.compile(rf"^\s*(?:{'|'.join(_LABELS)})?\s*[：:]?\s*$")


def _may_become_label(text: str) -> bool:
    head = text.strip().rstrip("：:")
    return any(label.startswith(head) for label in _LABELS)


MIN_TERM_SUPPORT = 0.5


def support(
    sentence: str, *passages: Passage, asked: str = "", weight: TermWeight | None = None
) -> float:
    """0 when a number of the sentence is missing from the passages (and is not worked
    out from two that are, `worked_out`), else the share of its key terms that they hold
    (titles, sections and table headers included; an instruction to the assistant,
    masked for the model, supports nothing). Words count
    alike: weighing them by rarity in the knowledge base (a `weight`, as the evidence
    check does) refused right answers on the bundled and the Debian FAQ sets
    (benchmarks/support_weights.py, session 10).
    Across languages the key terms are those written alike in both, less the names the
    question `asked` already holds: repeating them proves nothing."""
    body, held = _read("\n".join(p.supporting for p in passages))
    numbers = figures(sentence)
    held_numbers = [float(n) for n in numbers if n in body]
    if any(num not in body and not worked_out(num, held_numbers) for num in numbers):
        return 0.0
    terms = set(tokenize(sentence))
    said, read = language_of([sentence]), language_of([body])
    if said and read and said != read and (said == "zh" or _prose(sentence)):
        # A Chinese sentence about an English passage (or the reverse): only what both
        # languages write alike can be compared, its names, code, options, numbers and
        # symbols: the terms not in the sentence's own script
        own = _HAN if said == "zh" else _LATIN
        terms = ({t for t in terms if not own.search(t)} - set(tokenize(asked))) | (
            _symbols(sentence) - _symbols(asked)
        )
    if not terms:
        return 0.0
    total = sum(weight(t) for t in terms) if weight else 0.0
    if weight is None or total <= 0:  # every word alike (or only words weighing nothing)
        return len(terms & held) / len(terms)
    return sum(weight(t) for t in terms & held) / total


@lru_cache(maxsize=64)
def _read(supporting: str) -> tuple[str, frozenset[str]]:
    """Passages' text in normal form and the words and signs it holds; every sentence
    of an answer is checked against the same few passages. English words are read with
    their spaces too (the normal form drops them, for numbers, and glues "run code
    examples" into one token)."""
    body = normalize(supporting)
    return body, frozenset(tokenize(body)) | frozenset(tokenize(supporting)) | _symbols(body)


def _prose(sentence: str) -> bool:
    """More than a few Latin words: "synaptic package manager" or "dvipdfmx" alone
    answers with a name a Chinese passage writes the same way, so it is compared word
    for word; an English sentence about it is compared by what both scripts share."""
    return len(_LATIN_WORD.findall(sentence)) > 3


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\\-]*")


def _symbols(text: str) -> set[str]:
    """Pictographs and signs ("🔒", "→"): the tokenizer drops them, yet they are what a
    sentence may share with a passage in another language."""
    return {ch for ch in text if unicodedata.category(ch) == "So"}


_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def choose_markers(
    sentence: str,
    cited: list[int],
    passages: list[Passage],
    asked: str = "",
    weight: TermWeight | None = None,
) -> list[int]:
    """The passage numbers this sentence may cite, best first (`asked`: the question)."""
    by_n = {p.n: p for p in passages}
    scores = {p.n: support(sentence, p, asked=asked, weight=weight) for p in passages}
    kept = [n for n in dict.fromkeys(cited) if n in by_n and scores[n] >= MIN_TERM_SUPPORT]
    if kept:
        return kept
    best = max(scores, key=lambda n: scores[n], default=None)
    if best is not None and scores[best] >= MIN_TERM_SUPPORT:
        return [best]
    return []


def quoted_span(sentence: str, passage: Passage) -> tuple[int, int]:
    """The sentence of the passage that best matches the answer sentence: the one holding
    most of its numbers, then most of its key terms (longer terms say more)."""
    hit = passage.hit
    candidates = [s for s in split_sentences(Line(hit.start, hit.end, hit.text)) if s.text.strip()]
    if not candidates:
        return hit.start, hit.end
    numbers = set(figures(sentence))
    terms = set(tokenize(sentence))

    def score(candidate: Line) -> tuple[int, int]:
        found = set(NUMBER.findall(normalize(candidate.text)))
        return len(numbers & found), sum(len(t) for t in terms & set(tokenize(candidate.text)))

    best = max(candidates, key=score)
    lead = len(best.text) - len(best.text.lstrip())
    return best.start + lead, best.start + lead + len(best.text.strip())


@dataclass(frozen=True)
class _Said:
    """A finished sentence: its text without markers, the passages the model cited and
    those that hold up, its stop and what follows it, and how it is shown."""

    body: str
    cited: list[int]
    markers: list[int]
    end: str
    shown: str
    reading: str = ""  # the sentence in the passages' language, when it was re-read


class CitationStreamer:
    """Feed model output piece by piece; get back checked text to show."""

    def __init__(
        self, passages: list[Passage], question: str = "", weight: TermWeight | None = None
    ):
        self.passages = passages
        self.question = question
        self.weight = weight
        self._said: list[_Said] = []  # the finished sentences (and label lines), in order
        self._shown: dict[int, int] = {}  # passage n -> displayed number
        self._spans: dict[int, list[tuple[int, int]]] = {}  # passage n -> quoted spans
        self._buffer = ""  # the current sentence, raw
        self._emitted = 0  # characters of its body already sent

    @property
    def sentences(self) -> int:
        return sum(1 for s in self._said if s.body.strip())

    @property
    def supported_sentences(self) -> int:
        return sum(1 for s in self._said if s.body.strip() and s.markers)

    @property
    def text(self) -> str:
        """Everything shown so far, as it reads now."""
        return "".join(s.shown for s in self._said)

    def unsupported(self) -> dict[int, str]:
        """The sentences no passage supports, by their place in the answer."""
        return {i: s.body for i, s in enumerate(self._said) if s.body.strip() and not s.markers}

    def reread(self, readings: dict[int, str]) -> bool:
        """Check unsupported sentences again as `readings` put them (their translation
        into the passages' language, where the words of both can be compared) and number
        the citations afresh in reading order. True when a sentence gained a citation."""
        gained = False
        for i, reading in readings.items():
            said = self._said[i]
            if said.body.strip() and not said.markers and reading.strip():
                markers = self._markers(reading, said.cited)
                if markers:
                    self._said[i] = replace(said, markers=markers, reading=reading)
                    gained = True
        if gained:
            self._shown, self._spans = {}, {}
            self._said = [
                replace(s, shown=self._render(s, s.body)) if s.body.strip() else s
                for s in self._said
            ]
        return gained

    def feed(self, piece: str) -> str:
        self._buffer += piece
        out = []
        while True:
            done = self._complete_sentence()
            if done is None:
                break
            out.append(self._finish(*done))
        out.append(self._emit_safe_prefix())
        return "".join(out)

    def close(self) -> str:
        if not self._buffer.strip():
            rest, self._buffer = self._buffer[self._emitted :], ""  # whitespace only
            self._said.append(_Said("", [], [], rest, rest))
            return rest
        raw, self._buffer = self._buffer, ""
        return self._finish(raw, "")

    # -- internals

    def _complete_sentence(self) -> tuple[str, str] | None:
        """(sentence, rest) once a stop and its trailing markers are followed by more text."""
        for i, ch in enumerate(self._buffer):
            if ch in _SENTENCE_END:
                j = i + 1
                while True:
                    m = MARKER.match(self._buffer, j)
                    if not m:
                        break
                    j = m.end()
                rest = self._buffer[j:]
                if rest.strip() and not rest.lstrip().startswith(("[", "【")):
                    return self._buffer[:j], rest
                return None
        return None

    def _emit_safe_prefix(self) -> str:
        """Send what cannot change: the body up to any marker or stop still open."""
        stop = len(self._buffer)
        for i, ch in enumerate(self._buffer):
            if ch in "[【" or ch in _SENTENCE_END:
                stop = i
                break
        if stop <= self._emitted or (self._emitted == 0 and _may_become_label(self._buffer[:stop])):
            return ""
        out = self._buffer[self._emitted : stop]
        self._emitted = stop
        return out

    def _finish(self, raw: str, rest: str) -> str:
        cited = [
            int(n)
            for m in MARKER.finditer(raw)
            for n in re.split(r"[,，、\s]+", m.group(1) or m.group(2))
            if n
        ]
        clean = MARKER.sub("", raw)
        stripped = clean.rstrip()
        stop = stripped[-1] if stripped and stripped[-1] in _SENTENCE_END else ""
        body = stripped[: len(stripped) - len(stop)] if stop else stripped
        trailing = clean[len(stripped) :]
        emitted, self._buffer, self._emitted = self._emitted, rest, 0
        if _LABEL_ONLY.match(body):
            label = trailing if stop == "\n" else ""
            self._said.append(_Said("", [], [], label, label))
            return label
        markers = self._markers(body, cited)
        said = _Said(body, cited, markers, stop + trailing, "")
        said = replace(said, shown=self._render(said, body))
        self._said.append(said)
        return said.shown[emitted:]

    def _markers(self, sentence: str, cited: list[int]) -> list[int]:
        return choose_markers(sentence, cited, self.passages, self.question, self.weight)

    def _render(self, said: _Said, body: str) -> str:
        """The sentence as shown: its body, the display numbers of its passages (quoting
        the passage sentence that matches it, or its reading), its stop. (Showing the
        passage's own words after a re-read sentence was tried: the sentence its words
        pick is too often not the one a paraphrase rests on, session 10.)"""
        quoted = said.reading or body
        shown = "".join(f"[{self._display_number(n, quoted)}]" for n in said.markers)
        return body + shown + said.end

    @property
    def citations(self) -> list[Citation]:
        """One per cited passage, in display order; its span runs from the first to the
        last passage sentence that the answer's sentences quote."""
        out = []
        for n, shown in self._shown.items():
            passage = next(p for p in self.passages if p.n == n)
            start = min(a for a, _ in self._spans[n])
            end = max(b for _, b in self._spans[n])
            text = passage.hit.text[start - passage.hit.start : end - passage.hit.start]
            hit = passage.hit
            out.append(
                Citation(
                    shown,
                    hit.source,
                    hit.section,
                    start,
                    end,
                    text,
                    hit.chunk_id,
                    title=hit.title,
                    page=hit.page_at(start),
                )
            )
        return out

    def _display_number(self, n: int, sentence: str) -> int:
        passage = next(p for p in self.passages if p.n == n)
        self._spans.setdefault(n, []).append(quoted_span(sentence, passage))
        return self._shown.setdefault(n, len(self._shown) + 1)
