"""The eval-set format (JSONL, one item a line) and its validator."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.evaluation.metrics import spans_of

TYPES = {"fact", "number", "list", "multi_hop", "comparison", "unanswerable"}
DIFFICULTIES = {"easy", "medium", "hard"}
EVIDENCE_CHARS = (20, 120)


class DatasetError(ValueError):
    pass


@dataclass(frozen=True)
class Evidence:
    source: str
    text: str


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    answer: str
    type: str
    difficulty: str
    must_contain: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @property
    def sources(self) -> list[str]:
        return sorted({e.source for e in self.evidence})


def parse_item(obj: dict[str, Any], where: str) -> EvalItem:
    for key in ("id", "question", "answer", "type"):
        if not isinstance(obj.get(key), str) or (key != "answer" and not obj[key].strip()):
            raise DatasetError(f"{where}: field {key!r} must be a non-empty string")
    if obj["type"] not in TYPES:
        raise DatasetError(f"{where}: type {obj['type']!r} is not one of {sorted(TYPES)}")
    difficulty = obj.get("difficulty", "medium")
    if difficulty not in DIFFICULTIES:
        raise DatasetError(
            f"{where}: difficulty {difficulty!r} is not one of {sorted(DIFFICULTIES)}"
        )
    must = obj.get("must_contain") or []
    if not isinstance(must, list) or not all(isinstance(m, str) and m for m in must):
        raise DatasetError(f"{where}: must_contain must be a list of non-empty strings")
    evidence = tuple(
        Evidence(obj[s], obj[e])
        for s, e in (("source", "evidence"), ("source2", "evidence2"))
        if obj.get(s) and obj.get(e)
    )
    if obj["type"] == "unanswerable":
        if must or evidence:
            raise DatasetError(f"{where}: an unanswerable item has empty must_contain and evidence")
    elif not evidence or not must:
        raise DatasetError(f"{where}: an answerable item needs source, evidence and must_contain")
    return EvalItem(
        id=obj["id"],
        question=obj["question"],
        answer=obj["answer"],
        type=obj["type"],
        difficulty=difficulty,
        must_contain=tuple(must),
        evidence=evidence,
    )


def load_dataset(path: Path) -> list[EvalItem]:
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset file")
    items: list[EvalItem] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        item = parse_item(obj, f"{path}:{n}")
        if item.id in seen:
            raise DatasetError(f"{path}:{n}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: the dataset is empty")
    return items


def validate_against_corpus(
    items: list[EvalItem], corpus_dir: Path, read: Callable[[Path], str]
) -> list[str]:
    """Problems found (empty when the set is sound): every evidence must be an exact
    substring of its source file's text as `read` extracts it (what retrieval returns:
    an HTML page's words, not its markup) and of a sensible length."""
    problems = []
    texts: dict[str, str] = {}
    for item in items:
        for ev in item.evidence:
            if ev.source not in texts:
                path = corpus_dir / ev.source
                if not path.exists():
                    problems.append(f"{item.id}: source {ev.source} not found in {corpus_dir}")
                    texts[ev.source] = ""
                    continue
                texts[ev.source] = read(path)
            lo, hi = EVIDENCE_CHARS
            if not lo <= len(ev.text) <= hi:
                problems.append(f"{item.id}: evidence is {len(ev.text)} chars, not {lo}-{hi}")
            if texts[ev.source] and not spans_of(ev.text, texts[ev.source]):
                problems.append(f"{item.id}: evidence is not a verbatim substring of {ev.source}")
        joined = "".join(texts.get(ev.source, "") for ev in item.evidence)
        for needle in item.must_contain:
            if joined and not spans_of(needle, joined):
                problems.append(f"{item.id}: must_contain {needle!r} is not in its source")
    return problems
