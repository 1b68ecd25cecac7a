import os
from pathlib import Path

import pytest

from rag.service import RagService
from rag.store.knowledge_base import KnowledgeBase
from rag.store.passage_states import PassageStates

KEY_A, KEY_B = "a" * 32, "b" * 32


def test_a_state_comes_back_by_chunk_and_key_and_only_by_both(tmp_path: Path) -> None:
    states = PassageStates(tmp_path / "states", budget_bytes=1 << 20)
    assert states.get(7, KEY_A) is None
    states.put(7, KEY_A, b"kv of chunk 7")
    assert states.get(7, KEY_A) == b"kv of chunk 7"
    assert states.has(7, KEY_A)
    assert states.get(7, KEY_B) is None  # read with another model or prefix: a miss
    assert states.get(8, KEY_A) is None
    assert states.chunk_ids() == {7}
    assert not [p for p in (tmp_path / "states").iterdir() if p.name.startswith(".tmp")]


def test_over_the_budget_the_least_recently_used_go_first(tmp_path: Path) -> None:
    states = PassageStates(tmp_path, budget_bytes=250)
    for chunk in (1, 2, 3):
        states.put(chunk, KEY_A, bytes(100))
        os.utime(tmp_path / f"{chunk}-{KEY_A}.kv", (chunk, chunk))  # 1 oldest
    assert states.chunk_ids() == {2, 3}  # 300 bytes did not fit: chunk 1 went
    states.get(2, KEY_A)  # used now: newer than 3
    states.put(4, KEY_A, bytes(100))
    assert states.chunk_ids() == {2, 4}
    assert states.size_bytes() == 200
    states.put(5, KEY_A, bytes(300))  # larger than the whole budget: not kept
    assert states.chunk_ids() == {2, 4}


def test_states_of_chunks_no_longer_held_are_removed(tmp_path: Path) -> None:
    states = PassageStates(tmp_path, budget_bytes=1 << 20)
    for chunk in (1, 2, 3):
        states.put(chunk, KEY_A, b"x")
    states.put(2, KEY_B, b"y")
    assert states.keep_only({2}) == 2
    assert states.chunk_ids() == {2}
    assert states.get(2, KEY_B) == b"y"


def test_a_key_must_be_a_digest_not_a_path(tmp_path: Path) -> None:
    states = PassageStates(tmp_path, budget_bytes=1 << 20)
    with pytest.raises(ValueError, match="hex digest"):
        states.put(1, "../../etc/passwd", b"x")


def test_a_documents_states_go_with_it_and_with_its_old_version(
    service: RagService, corpus: Path
) -> None:
    service.ingest(progress=False)
    kb = KnowledgeBase.open_existing(service.settings, service.settings.kb)
    states = kb.passage_states(1 << 20)
    ids = kb.snapshot().chunk_ids
    for chunk_id in ids:
        states.put(chunk_id, KEY_A, b"kv")
    rows = kb.catalog.chunk_rows(ids)
    plan = {cid for cid, row in rows.items() if row.source == "plan.txt"}
    notes = {cid for cid, row in rows.items() if row.source == "notes.md"}
    assert plan and notes
    assert service.kb_info().passage_states == len(ids)

    assert service.remove(corpus / "plan.txt")
    assert states.chunk_ids() == set(ids) - plan
    (corpus / "notes.md").write_text("# 笔记\n\n全部改写了。\n", encoding="utf-8")
    service.ingest(progress=False)  # notes.md replaced: its old chunks are gone
    assert states.chunk_ids() == set(ids) - plan - notes
