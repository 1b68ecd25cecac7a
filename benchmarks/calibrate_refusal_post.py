"""Replay post-generation refusal rules over the records of a `rag eval` report.

Each record keeps the model's raw reply, its checked citations and the retrieved
passages, so rules can be compared without generating again:

    python benchmarks/calibrate_refusal_post.py eval/runs/<time>/report.json

A rule refuses an answer; the table shows what each would do to the refusal rate on
unanswerable items, the false-refusal rate and accuracy on answerable ones.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.answer.checks.declined import is_model_refusal
from rag.answer.checks.invented import invented_numbers
from rag.answer.checks.invented_names import invented_names
from rag.answer.checks.off_target import off_target
from rag.answer.citations import MARKER, CitationStreamer
from rag.answer.context import select_passages
from rag.evaluation.metrics import contains_all
from rag.settings import Settings
from rag.store.knowledge_base import KnowledgeBase
from rag.types import Passage, SearchHit

Rule = Callable[[dict[str, Any]], bool]


_CONTEXTS: dict[int, str] = {}
_SETTINGS = Settings()


def _passages(item: dict[str, Any]) -> list[Passage]:
    """The passages the answer saw: the report's top hits (contexts from the index),
    chosen and trimmed as the pipeline does with the default settings."""
    fields = ("rank", "score", "source", "section", "start", "end", "text", "chunk_id")
    hits = [
        SearchHit(**{k: r[k] for k in fields}, context=_CONTEXTS.get(r["chunk_id"], ""))
        for r in item["retrieved"][: _SETTINGS.answer_passages]
    ]
    return select_passages(
        hits, item["question"], _SETTINGS.answer_passages, _SETTINGS.answer_context_chars
    )


def rechecked_citations(item: dict[str, Any]) -> int:
    """Citations the current checker keeps for the recorded reply."""
    streamer = CitationStreamer(_passages(item))
    streamer.feed(item["evidence"].get("raw", item["answer"] or ""))
    streamer.close()
    return len(streamer.citations)


def no_citation(item: dict[str, Any]) -> bool:
    return not item["citations"]


def no_rechecked_citation(item: dict[str, Any]) -> bool:
    return "raw" in item["evidence"] and rechecked_citations(item) == 0


def invented(item: dict[str, Any]) -> bool:
    raw = item["evidence"].get("raw", item["answer"] or "")
    return bool(invented_numbers(raw, item["question"], _passages(item)))


def off(item: dict[str, Any]) -> bool:
    raw = item["evidence"].get("raw", item["answer"] or "")
    return bool(off_target(raw, item["question"], _passages(item)))


def names(item: dict[str, Any]) -> bool:
    raw = item["evidence"].get("raw", item["answer"] or "")
    return bool(invented_names(raw, item["question"], _passages(item)))


RULES: dict[str, Rule] = {
    "model refusal and pre-check only": lambda it: False,
    "no checked citation (as recorded)": no_citation,
    "no checked citation (current checker)": no_rechecked_citation,
    "invented number": invented,
    "current checker or invented number": lambda it: no_rechecked_citation(it) or invented(it),
    "off target (another place, quantity or unit)": off,
    "all of the above (the pipeline now)": lambda it: (
        no_rechecked_citation(it) or invented(it) or off(it)
    ),
    "invented name, code or command": names,
    "all of the above and invented names": lambda it: (
        no_rechecked_citation(it) or invented(it) or off(it) or names(it)
    ),
}


def main() -> None:
    report = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    items = report["items"]
    kb = KnowledgeBase.open_existing(_SETTINGS, report["run"]["kb"])
    ids = [r["chunk_id"] for it in items for r in it["retrieved"][:5]]
    _CONTEXTS.update({cid: row.context for cid, row in kb.catalog.chunk_rows(ids).items()})
    for name, rule in RULES.items():
        refused = [_refused(it, rule) for it in items]
        no = [r for it, r in zip(items, refused, strict=True) if it["type"] == "unanswerable"]
        ok = [(it, r) for it, r in zip(items, refused, strict=True) if it["type"] != "unanswerable"]
        accuracy = sum(1 for it, r in ok if not r and _correct(it)) / len(ok)
        print(
            f"{name:36s} refusal {sum(no)}/{len(no)}  false refusal {sum(r for _, r in ok)}/{len(ok)}"
            f"  accuracy {accuracy:.3f}"
        )


def _refused(item: dict[str, Any], rule: Rule) -> bool:
    """Refused before generating (as recorded), or by the model, or by the rule; an answer
    the recorded run refused after generating may pass a rule that is now looser."""
    raw = item["evidence"].get("raw")
    if raw is None:
        return bool(item["refused"])
    return is_model_refusal(raw) or rule(item)


def _correct(item: dict[str, Any]) -> bool:
    raw = item["evidence"].get("raw", item["answer"] or "")
    return contains_all(MARKER.sub("", raw), item["must_contain"])


if __name__ == "__main__":
    main()
