"""Embedding backends, chosen by settings (`embedding_backend`)."""

from __future__ import annotations

from pathlib import Path

from rag.models.embeddings.base import Embedder
from rag.settings import BUNDLED_E5, Settings


def embedder_from_settings(settings: Settings, show_progress: bool = False) -> Embedder:
    backend = settings.embedding_backend
    if backend == "openvino":
        from rag.models.embeddings.openvino import OpenVinoEmbedder

        return OpenVinoEmbedder(
            _model_folder(settings),
            settings.embedding_model,
            cache_dir=settings.cache_dir,
            batch_size=settings.embedding_batch_size,
            threads=settings.threads,
        )
    if backend == "sentence-transformers":
        from rag.models.embeddings.sentence_transformer import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            settings.embedding_model,
            cache_dir=settings.cache_dir,
            int8=settings.embedding_int8,
            batch_size=settings.embedding_batch_size,
            threads=settings.threads,
            show_progress=show_progress,
        )
    if backend == "openai":
        from rag.models.embeddings.openai_compatible import OpenAICompatibleEmbedder

        if not settings.embedding_base_url:
            raise ValueError("the openai embedding backend needs RAG_EMBEDDING_BASE_URL")
        return OpenAICompatibleEmbedder(
            settings.embedding_base_url,
            settings.embedding_model,
            api_key=settings.embedding_api_key,
            batch_size=settings.embedding_batch_size,
            timeout_s=settings.embedding_timeout_s,
            retries=settings.embedding_retries,
            prefixes=(settings.embedding_query_prefix, settings.embedding_passage_prefix),
        )
    raise ValueError(
        f"unknown embedding_backend {backend!r}; use openvino, sentence-transformers or openai"
    )


def _model_folder(settings: Settings) -> Path:
    if settings.embedding_model == BUNDLED_E5:
        from rag.models.embeddings.bundled_e5 import ensure_bundled_e5

        return ensure_bundled_e5(settings.cache_dir)
    folder = Path(settings.embedding_model).expanduser()
    if not (folder / "config.json").exists():
        raise ValueError(
            f"RAG_EMBEDDING_MODEL={settings.embedding_model!r} is not a model folder here"
            " (no config.json); OpenVINO needs the folder on disk, as nothing is downloaded"
        )
    return folder


__all__ = ["Embedder", "embedder_from_settings"]
