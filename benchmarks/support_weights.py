"""How to count a sentence's words when checking it against a passage: replayed over
the raw answers (and the re-read translations) recorded in `rag eval` reports.

    python benchmarks/support_weights.py eval/runs/<a>/report.json [<b>/report.json ...]

For each way of weighing words, prints per report how many answers would keep a
supported sentence (the rest are refused by checks/unsupported.py): answerable items,
and unanswerable ones, which should keep none. Run it on reports made with the
re-read recorded (`evidence.reread.readings`, since session 10), on several corpora.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import calibrate_refusal_post as replay  # the passages an answer saw, as it saw them

from rag.answer.checks.declined import is_model_refusal
from rag.answer.checks.evidence import term_weight
from rag.answer.citations import CitationStreamer
from rag.store.knowledge_base import KnowledgeBase
from rag.text.tokens import TermWeight, rarity, tokenize

# (the knowledge base's rarity, the question) -> how a sentence's words are weighed
Weighting = Callable[[Callable[[str], float], str], TermWeight | None]

WEIGHTINGS: dict[str, Weighting] = {
    "every word alike (before)": lambda kb, q: None,
    "length x language x kb rarity (evidence check's)": lambda kb, q: term_weight(kb),
    "kb rarity": lambda kb, q: kb,
    "language x kb rarity": lambda kb, q: lambda t: rarity(t) * kb(t),
    "alike, less words in most chunks": lambda kb, q: lambda t: float(kb(t) > 0.25),
    "alike, less the question's words": lambda kb, q: _not_in(set(tokenize(q))),
}


def _not_in(asked: set[str]) -> TermWeight:
    return lambda t: 0.0 if t in asked else 1.0


def supported(item: dict[str, Any], weighting: Weighting, kb: Callable[[str], float]) -> bool:
    """Whether the recorded answer keeps a supported sentence under this weighing."""
    raw = item["evidence"]["raw"]
    weight = weighting(kb, item["question"])
    streamer = CitationStreamer(replay._passages(item), item["question"], weight)
    streamer.feed(raw)
    streamer.close()
    readings = (item["evidence"].get("reread") or {}).get("readings") or {}
    streamer.reread({int(k): v for k, v in readings.items()})
    return streamer.supported_sentences > 0


def main() -> None:
    for path in sys.argv[1:]:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        kb = KnowledgeBase.open_existing(replay._SETTINGS, report["run"]["kb"])
        items = [
            it
            for it in report["items"]
            if "raw" in it["evidence"] and not is_model_refusal(it["evidence"]["raw"])
        ]
        ids = [r["chunk_id"] for it in items for r in it["retrieved"][:5]]
        replay._CONTEXTS.update(
            {cid: row.context for cid, row in kb.catalog.chunk_rows(ids).items()}
        )
        kb_rarity = kb.snapshot().keywords.rarity
        print(f"{report['run']['kb']} ({path}): {len(items)} answers reached the checks")
        before: set[str] = set()
        for name, weighting in WEIGHTINGS.items():
            kept = {it["id"] for it in items if supported(it, weighting, kb_rarity)}
            before = before or kept
            yes = [it["id"] for it in items if it["id"] in kept and it["type"] != "unanswerable"]
            no = [it["id"] for it in items if it["id"] in kept and it["type"] == "unanswerable"]
            lost = sorted(before - kept)
            print(
                f"  {name:50s} answerable kept {len(yes):3d}  unanswerable kept {len(no)} {no}"
                f"  lost {lost}"
            )


if __name__ == "__main__":
    main()
