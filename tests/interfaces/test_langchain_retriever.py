from __future__ import annotations

from langchain_core.documents import Document

from rag.interfaces.langchain_retriever import HybridLangChainRetriever
from rag.service import RagService


def test_works_as_a_langchain_retriever(service: RagService) -> None:
    service.ingest(progress=False)
    retriever = HybridLangChainRetriever(service=service, k=2)
    docs = retriever.invoke("新建5G基站多少个")
    assert len(docs) == 2 and all(isinstance(d, Document) for d in docs)
    assert "6000个" in docs[0].page_content
    assert docs[0].metadata["source"] == "plan.txt"
    assert {"rank", "score", "section", "start", "end"} <= set(docs[0].metadata)
    # composes like any runnable
    batch = retriever.batch(["人才团队", "地铁"])
    assert batch[0][0].metadata["source"] == "notes.md"
    assert batch[1][0].metadata["source"] == "page.html"
