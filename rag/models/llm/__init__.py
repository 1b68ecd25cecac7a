"""Language-model backends, chosen by settings (`llm_backend`)."""

from __future__ import annotations

from pathlib import Path

from rag.errors import LLMError
from rag.models.llm.base import ChatModel
from rag.settings import Settings
from rag.types import ChatMessage


def chat_model_from_settings(settings: Settings) -> ChatModel:
    backend = settings.llm_backend
    if backend == "llama_cpp":
        from rag.models.llm.bundled_qwen import ensure_bundled_gguf
        from rag.models.llm.llama_cpp import LlamaCppChatModel

        path = (
            Path(settings.llm_model_path)
            if settings.llm_model_path
            else ensure_bundled_gguf(settings.cache_dir)
        )
        if not path.exists():
            raise LLMError(f"no model file at {path}; fix RAG_LLM_MODEL_PATH")
        return LlamaCppChatModel(
            path,
            n_ctx=settings.llm_context_tokens,
            threads=settings.threads,
            repack=settings.llm_repack,
            draft_tokens=settings.llm_draft_tokens,
            kv_type=settings.llm_kv_type,
        )
    if backend == "openai":
        from rag.models.llm.openai_compatible import OpenAICompatibleChatModel

        if not settings.llm_base_url or not settings.llm_model:
            raise LLMError("the openai backend needs RAG_LLM_BASE_URL and RAG_LLM_MODEL")
        return OpenAICompatibleChatModel(
            settings.llm_base_url, settings.llm_model, settings.llm_api_key
        )
    if backend == "transformers":
        from rag.models.llm.transformers_chat import TransformersChatModel

        if not settings.llm_model_path:
            raise LLMError("the transformers backend needs RAG_LLM_MODEL_PATH (a model folder)")
        return TransformersChatModel(Path(settings.llm_model_path), threads=settings.threads)
    raise LLMError(f"unknown llm_backend {backend!r}; use llama_cpp, openai or transformers")


__all__ = ["ChatMessage", "ChatModel", "LLMError", "chat_model_from_settings"]
