"""The hybrid retriever as a LangChain `BaseRetriever`, for any LangChain app.

from rag.interfaces.langchain_retriever import HybridLangChainRetriever
retriever = HybridLangChainRetriever.from_settings(k=5)
docs = retriever.invoke("高新区2025年的目标是什么?")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.service import RagService


class HybridLangChainRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    service: RagService
    kb: str | None = None
    k: int = 5

    @classmethod
    def from_settings(
        cls, kb: str | None = None, k: int = 5, **settings: Any
    ) -> HybridLangChainRetriever:
        from rag.settings import Settings

        return cls(service=RagService(Settings(**settings)), kb=kb, k=k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=hit.text,
                metadata={k: v for k, v in hit.to_json().items() if k != "text"},
            )
            for hit in self.service.search(query, self.k, self.kb)
        ]
