"""`rag kb create / docs / remove` on real files in a temporary index folder."""

from __future__ import annotations

import pytest

from rag.interfaces.cli import main
from rag.service import RagService
from rag.settings import Settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    return settings


def test_create_list_docs_and_remove(
    cli_env: Settings, service: RagService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "create", "notes"]) == 0
    assert main(["kb", "create", "notes"]) == 2  # already there
    assert "already exists" in capsys.readouterr().err
    assert main(["kb", "docs", "notes"]) == 0
    assert "no documents yet" in capsys.readouterr().out

    service.ingest([cli_env.corpus_dir / "plan.txt"], "notes", progress=False)
    assert main(["kb", "docs", "notes"]) == 0
    [row] = capsys.readouterr().out.splitlines()
    doc_id, kind, chunks, size, when, name, _title = row.split("\t")
    assert (kind, name) == ("text", "plan.txt") and int(doc_id) >= 1
    assert chunks.endswith("chunks") and int(chunks.split()[0]) > 0
    assert size == f"{(cli_env.corpus_dir / 'plan.txt').stat().st_size:,} B" and when

    assert main(["kb", "remove", "notes"]) == 2  # not at a terminal: --yes wanted
    assert "--yes" in capsys.readouterr().err
    assert (cli_env.index_dir / "notes").is_dir()
    assert main(["kb", "remove", "notes", "--yes"]) == 0
    assert not (cli_env.index_dir / "notes").exists()
    assert main(["kb", "docs", "notes"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["../x", "a/b", "bad name"])
def test_bad_names_are_refused(
    cli_env: Settings, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "create", name]) == 2
    assert "letters, digits" in capsys.readouterr().err
    assert not any(cli_env.index_dir.parent.glob("x*"))


def test_migrate_copies_a_knowledge_base_into_milvus_and_back(
    cli_env: Settings, service: RagService, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.store.knowledge_base import KnowledgeBase

    service.ingest(progress=False)
    chunks = KnowledgeBase.open_existing(cli_env).catalog.count_chunks()
    assert main(["kb", "migrate", cli_env.kb, "--to", "milvus"]) == 0
    out = capsys.readouterr().out
    assert f"{chunks} chunks copied to Milvus" in out and "RAG_VECTOR_STORE=milvus" in out
    milvus = cli_env.model_copy(update={"vector_store": "milvus"})
    assert KnowledgeBase.open_existing(milvus).search_index().size == chunks
    assert main(["kb", "migrate", cli_env.kb, "--to", "faiss"]) == 0
    assert f"{chunks} chunks copied to FAISS" in capsys.readouterr().out
    assert main(["kb", "migrate", "nosuchkb", "--to", "milvus"]) == 2
    assert "does not exist" in capsys.readouterr().err
