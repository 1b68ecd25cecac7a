"""Shared fixtures: a tiny on-disk corpus, settings pointing into tmp, a model-free embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.service import RagService
from rag.settings import PROJECT_ROOT, Settings
from tests.fakes.embedder import HashingEmbedder

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


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The default embedding model, built once into the user cache and shared."""
    from rag.models.embeddings import embedder_from_settings

    return embedder_from_settings(Settings())


@pytest.fixture(scope="session")
def bundled_service(tmp_path_factory, real_embedder) -> RagService:  # type: ignore[no-untyped-def]
    """The bundled corpus ingested with the real model into a temporary index."""
    index_dir = tmp_path_factory.mktemp("bundled-index")
    service = RagService(Settings(index_dir=index_dir), embedder=real_embedder)
    service.ingest(progress=False)
    return service


@pytest.fixture(scope="session")
def answering_service(bundled_service: RagService) -> RagService:
    """The bundled corpus with the real bundled language model (llama.cpp)."""
    return bundled_service
