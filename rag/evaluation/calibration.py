"""Each knowledge base fits its own refusal threshold: `rag kb calibrate NAME`, and
`rag serve` in the background once the knowledge base has none or changed a lot.

Before generating, the assistant refuses when the passages found cover less than
`min_coverage` of the question's weighted words (rag/answer/checks/evidence.py). Where
that line should fall depends on the documents: how they word things, how many words a
question shares with them. So each knowledge base measures it on itself, with the
questions `rag kb check` had the model write from its passages:
- as answerable questions, each as it is: the passages its search finds, checked;
- as questions the knowledge base does not answer, each again without its most telling
  word among those found (what the coverage would be if the documents lacked the thing
  it names: "the 5G base stations" asked of a plan that has none). The bundled 1.5B
  model was asked to write questions its passage does not answer, but it wrote
  answerable ones (most were covered as well as the questions it was asked for).
For each threshold in a band, count how many of each the check would refuse; keep the
one that refuses the most of the second kind while refusing at most 5% of the first
(the lowest of equals). Questions written from a passage copy its words, so they are
covered better than a colleague's paraphrase would be: the band's top bounds what that
bias can cost, and too few questions keep the default.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from tqdm import tqdm

from rag.answer.checks.evidence import EvidenceCheck

META_KEY = "calibration"
BAND = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)  # thresholds it may choose between
MAX_FALSE_REFUSALS = 0.05  # of the answerable questions
MIN_QUESTIONS = 8  # of each kind; with fewer the default stays
REDO_AFTER_CHANGE = 0.2  # share of the chunks added or removed since the fit


@dataclass(frozen=True)
class Calibration:
    min_coverage: float
    answerable: int  # questions it was fit on
    unanswerable: int
    answerable_refused: int  # at min_coverage
    unanswerable_refused: int
    fitted: bool  # False: too few questions, min_coverage is the default
    chunks: int  # in the knowledge base when it was fit
    max_chunk_id: int  # chunks above it were added later

    def outdated(self, chunk_ids: Sequence[int]) -> bool:
        """True once more than a fifth of the chunks were added or removed since."""
        kept = sum(1 for c in chunk_ids if c <= self.max_chunk_id)
        changed = (self.chunks - kept) + (len(chunk_ids) - kept)
        return changed > REDO_AFTER_CHANGE * max(self.chunks, 1)

    def text(self) -> str:
        how = "fitted" if self.fitted else "default (too few questions to fit)"
        return (
            f"refusal threshold (evidence coverage): {self.min_coverage} [{how}]\n"
            f"  on {self.answerable} questions its passages answer: "
            f"{self.answerable_refused} refused\n"
            f"  on {self.unanswerable} of them without their most telling word: "
            f"{self.unanswerable_refused} refused\n"
            f"  fitted on {self.chunks} chunks; redone when over "
            f"{REDO_AFTER_CHANGE:.0%} of them change"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Calibration | None:
        if not text:
            return None
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):  # written by another version: fit anew
            return None


def refused(check: EvidenceCheck, threshold: float) -> bool:
    return bool(check.missing) or check.coverage < threshold


def fit_min_coverage(
    answerable: Sequence[EvidenceCheck], unanswerable: Sequence[EvidenceCheck], default: float
) -> tuple[float, bool]:
    """(the threshold, whether it was fitted rather than the default)."""
    if min(len(answerable), len(unanswerable)) < MIN_QUESTIONS:
        return default, False
    allowed = MAX_FALSE_REFUSALS * len(answerable)
    best = (-1, 0.0)
    for threshold in BAND:
        if sum(refused(c, threshold) for c in answerable) > allowed:
            break  # refusals only grow with the threshold
        caught = sum(refused(c, threshold) for c in unanswerable)
        if caught > best[0]:
            best = (caught, threshold)
    return (best[1], True) if best[0] >= 0 else (BAND[0], True)


def near_miss(check: EvidenceCheck) -> EvidenceCheck:
    """The check of the same question had the passages lacked its most telling word."""
    coverage = round(max(0.0, check.coverage - check.best_share), 3)
    return replace(check, coverage=coverage, best_share=0.0)


def calibrate(
    questions: Sequence[str],
    evidence: Callable[[str], EvidenceCheck],
    default: float,
    chunk_ids: Sequence[int],
    progress: bool = False,
) -> Calibration:
    """Fit the threshold for a knowledge base holding `chunk_ids` on questions its
    passages answer; `evidence` finds the passages for a question and checks them as
    the answer pipeline does."""
    bar = tqdm(
        questions,
        desc="Checking the evidence",
        unit="question",
        disable=not progress,
        file=sys.stderr,
    )
    yes = [evidence(q) for q in bar]
    no = [near_miss(c) for c in yes]
    threshold, fitted = fit_min_coverage(yes, no, default)
    return Calibration(
        min_coverage=threshold,
        answerable=len(yes),
        unanswerable=len(no),
        answerable_refused=sum(refused(c, threshold) for c in yes),
        unanswerable_refused=sum(refused(c, threshold) for c in no),
        fitted=fitted,
        chunks=len(chunk_ids),
        max_chunk_id=max(chunk_ids, default=0),
    )
