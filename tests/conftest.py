"""Shared fixtures: a tiny on-disk corpus, settings pointing into tmp, a model-free embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.embeddings.hashing import HashingEmbedder
from rag.service import RagService
from rag.settings import PROJECT_ROOT, Settings

FIXTURES = Path(__file__).parent / "fixtures"
BUNDLED_CORPUS = PROJECT_ROOT / "corpus" / "jinan"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the fixture corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", target)
    return target


@pytest.fixture
def settings(tmp_path: Path, corpus: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", corpus_dir=corpus, cache_dir=tmp_path / "cache")


@pytest.fixture
def service(settings: Settings) -> RagService:
    """The real pipeline with the model-free embedder (fast plumbing tests)."""
    return RagService(settings, embedder=HashingEmbedder())
