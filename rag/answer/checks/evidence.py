"""Before generating: do the passages cover the question? A year or number the
question names must appear in them, and enough of its specific terms must be covered.
A 1.5B model told to refuse refuses answerable questions too, and one not told invents
numbers, so this is decided in code, from the passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.normal import normalize
from rag.text.tokens import TermWeight, rarity, tokenize
from rag.types import Passage

_ANCHOR = re.compile(r"(?:19|20)\d{2}(?=年)|\d+(?:\.\d+)?(?=[%％亿万个家所座条项])")


@dataclass(frozen=True)
class EvidenceCheck:
    answerable: bool
    coverage: float
    missing: tuple[str, ...]  # anchors of the question that no passage mentions
    # the share of the question's weight its most telling covered word carries: what the
    # coverage would lose if the passages lacked the thing it names (calibration)
    best_share: float = 0.0


def term_weight(corpus_rarity: TermWeight | None = None) -> TermWeight:
    """How much a question word says about what is asked: its length (a long word is a
    specific thing), its rarity in the language (words any question uses say little) and,
    given the knowledge base's, its rarity there (the place or product every document is
    about says nothing about which passage answers)."""

    def weight(term: str) -> float:
        return len(term) * rarity(term) * (corpus_rarity(term) if corpus_rarity else 1.0)

    return weight


def check_evidence(
    question: str,
    passages: list[Passage],
    min_coverage: float,
    weight: TermWeight | None = None,
) -> EvidenceCheck:
    """How well these passages cover the question (all passages before generation, the
    cited ones after it): the weighted share of its words they contain."""
    if not passages:
        return EvidenceCheck(False, 0.0, ())
    corpus = normalize("\n".join(p.hit.context or p.hit.text for p in passages))
    anchors = tuple(dict.fromkeys(_ANCHOR.findall(normalize(question))))
    missing = tuple(a for a in anchors if a not in corpus)
    weight = weight or term_weight()
    weights = {t: weight(t) for t in dict.fromkeys(tokenize(question))}
    total = sum(weights.values())
    found = [w for t, w in weights.items() if t in corpus.lower()]
    coverage = sum(found) / total if total else 1.0
    best_share = max(found, default=0.0) / total if total else 0.0
    return EvidenceCheck(
        not missing and coverage >= min_coverage, round(coverage, 3), missing, round(best_share, 3)
    )
