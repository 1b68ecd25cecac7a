from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.dataset import DatasetError, load_dataset, validate_against_corpus
from rag.ingest.loaders import load_document
from tests.conftest import BUNDLED_CORPUS, FIXTURES

GOOD = {
    "id": "t-1",
    "question": "新建多少5G基站?",
    "answer": "6000个",
    "must_contain": ["6000个"],
    "source": "plan.txt",
    "evidence": "建设算力中心3个,新建5G基站6000个。",
    "type": "number",
    "difficulty": "easy",
}


def read(path: Path) -> str:
    return load_document(path).text


def _write(tmp_path: Path, *items: dict) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
    )
    return path


def test_bundled_set_is_valid_and_covers_what_the_issue_asks() -> None:
    from rag.evaluation.cli import DEFAULT_DATASET

    items = load_dataset(DEFAULT_DATASET)
    assert validate_against_corpus(items, BUNDLED_CORPUS, read) == []
    assert len(items) >= 60
    types = {t: sum(1 for i in items if i.type == t) for t in {i.type for i in items}}
    assert types["unanswerable"] >= 8 and types["number"] >= 10
    assert types["multi_hop"] + types["comparison"] >= 6
    assert {s for i in items for s in i.sources} == {p.name for p in BUNDLED_CORPUS.glob("*.txt")}


def test_the_cross_lingual_set_is_valid_against_the_pages_as_read() -> None:
    """Its evidence is English text of HTML pages: found in what the loader reads."""
    from rag.settings import PROJECT_ROOT

    items = load_dataset(PROJECT_ROOT / "eval" / "rustdoc_zh_qa.jsonl")
    corpus = PROJECT_ROOT / "eval" / "corpora" / "rustdoc_book"
    assert validate_against_corpus(items, corpus, read) == []
    assert len(items) >= 30 and sum(i.type == "unanswerable" for i in items) >= 4


def test_a_good_item_loads_and_validates(tmp_path: Path) -> None:
    items = load_dataset(_write(tmp_path, GOOD))
    assert items[0].evidence[0].source == "plan.txt"
    assert validate_against_corpus(items, FIXTURES / "corpus", read) == []


def test_evidence_that_is_not_verbatim_is_reported(tmp_path: Path) -> None:
    bad = {**GOOD, "evidence": "建设算力中心三个,新建5G基站六千个。"}
    problems = validate_against_corpus(
        load_dataset(_write(tmp_path, bad)), FIXTURES / "corpus", read
    )
    assert any("not a verbatim substring" in p for p in problems)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "guess"}, "type"),
        ({"must_contain": []}, "needs source, evidence and must_contain"),
        ({"type": "unanswerable"}, "unanswerable item has empty"),
        ({"question": ""}, "question"),
    ],
)
def test_malformed_items_are_refused_with_the_line(
    tmp_path: Path, change: dict, message: str
) -> None:
    with pytest.raises(DatasetError, match=message) as err:
        load_dataset(_write(tmp_path, {**GOOD, **change}))
    assert "set.jsonl:1" in str(err.value)


def test_duplicate_ids_and_broken_json(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="duplicate id"):
        load_dataset(_write(tmp_path, GOOD, GOOD))
    path = tmp_path / "broken.jsonl"
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_dataset(path)
