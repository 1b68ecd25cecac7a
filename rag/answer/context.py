"""Choose what the model reads: the best passages, trimmed to a character budget.

At ~50 prompt tokens/s on 2 cores every passage character costs time before the first
token, so long passages are cut to the run of sentences that matches the question best.
"""

from __future__ import annotations

from rag.text.sentences import Line, split_sentences
from rag.text.tokens import tokenize
from rag.types import Passage, SearchHit


def _best_window(hit: SearchHit, terms: set[str], cap: int) -> tuple[int, int, str]:
    """The run of whole sentences within `cap` characters that shares most query terms."""
    if len(hit.text) <= cap:
        return hit.start, hit.end, hit.text
    sentences = [s for line in _lines(hit) for s in split_sentences(line)]
    scores = [len(terms & set(tokenize(s.text))) for s in sentences]
    best = (-1, 0, 0)
    for i in range(len(sentences)):
        j, total = i, 0
        while j < len(sentences) and sentences[j].end - sentences[i].start <= cap:
            total += scores[j]
            j += 1
        if j > i and total > best[0]:
            best = (total, i, j - 1)
    if best[0] < 0:  # a single sentence longer than the cap: cut it
        return hit.start, hit.start + cap, hit.text[:cap]
    first, last = sentences[best[1]], sentences[best[2]]
    offset = first.start - hit.start
    return first.start, last.end, hit.text[offset : offset + last.end - first.start]


def _lines(hit: SearchHit) -> list[Line]:
    lines, pos = [], hit.start
    for raw in hit.text.split("\n"):
        if raw.strip():
            lines.append(Line(pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return lines


def select_passages(
    hits: list[SearchHit], question: str, max_passages: int, budget_chars: int, whole: bool = False
) -> list[Passage]:
    """Top hits in rank order; the first may take half the budget, the others share it.
    With `whole`, hits are never cut: they are taken in rank order while they fit."""
    terms = set(tokenize(question))
    if whole:
        return _whole_passages(hits, terms, max_passages, budget_chars)
    passages: list[Passage] = []
    remaining = budget_chars
    for hit in hits[:max_passages]:
        if remaining < 40:
            break
        cap = remaining // 2 if not passages else max(remaining // 2, 120)
        cap = min(cap, remaining)
        start, end, text = _best_window(hit, terms, cap)
        passages.append(Passage(len(passages) + 1, hit, start, end, text))
        remaining -= len(text)
    return passages


def _whole_passages(
    hits: list[SearchHit], terms: set[str], max_passages: int, budget_chars: int
) -> list[Passage]:
    """Whole chunks, read the same for every question (their model states can be
    kept): a hit that does not fit the rest of the budget is skipped, not cut; only a
    first hit longer than the whole budget is cut."""
    passages: list[Passage] = []
    remaining = budget_chars
    for hit in hits:
        if len(passages) == max_passages:
            break
        if len(hit.text) > remaining:
            if passages:
                continue
            start, end, text = _best_window(hit, terms, budget_chars)
        else:
            start, end, text = hit.start, hit.end, hit.text
        passages.append(Passage(len(passages) + 1, hit, start, end, text))
        remaining -= len(text)
    return passages
