from __future__ import annotations

from pathlib import Path

import pytest

from rag.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert s.kb == "jinan" and s.embedding_model == "bundled:multilingual-e5-small"
    assert s.corpus_dir.name == "jinan" and s.kb_dir().name == "jinan"


def test_environment_then_file_then_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "rag.toml"
    config.write_text('kb = "from-file"\ntop_k = 9\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    assert Settings().kb == "from-file" and Settings().top_k == 9
    monkeypatch.setenv("RAG_KB", "from-env")
    assert Settings().kb == "from-env" and Settings().top_k == 9
    assert Settings(kb="from-code").kb == "from-code"
