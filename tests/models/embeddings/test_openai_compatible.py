"""Remote embeddings over OpenAI's /v1/embeddings: a small server in the test serves the
bundled e5 (as Text Embeddings Inference would: raw text in, vectors out), and a
scripted one misbehaves (busy, down, wrong answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rag.errors import KnowledgeBaseError
from rag.models.embeddings import embedder_from_settings
from rag.models.embeddings.openai_compatible import (
    EmbeddingServerError,
    OpenAICompatibleEmbedder,
    default_prefixes,
)
from rag.service import RagService
from rag.settings import BUNDLED_E5, Settings
from tests.interfaces.server.conftest import LiveServer


def embeddings_app(embed: Any, log: list[list[str]], script: list[int] | None = None) -> FastAPI:
    """/v1/embeddings answering with `embed(texts)`; `script` lists statuses to send
    first (503: busy), one per request."""
    app = FastAPI()

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await request.json()
        log.append(list(body["input"]))
        if script:
            status = script.pop(0)
            if status != 200:
                return JSONResponse({"error": "scripted"}, status_code=status)
        vectors = embed(body["input"])
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        return {"object": "list", "model": body["model"], "data": data[::-1]}  # any order

    return app


@pytest.fixture
def scripted() -> Iterator[tuple[LiveServer, list[list[str]], list[int]]]:
    log: list[list[str]] = []
    script: list[int] = []

    def embed(texts: list[str]) -> list[list[float]]:
        return [[float(len(t)), 1.0, 0.0] for t in texts]

    with LiveServer(embeddings_app(embed, log, script)) as server:
        yield server, log, script


def test_batches_prefixes_order_and_normalisation(scripted: Any) -> None:
    server, log, _ = scripted
    embedder = OpenAICompatibleEmbedder(
        server.url + "/v1", "intfloat/multilingual-e5-small", batch_size=2, retries=0
    )
    vectors = embedder.embed_passages(["a", "bb", "ccc"])
    assert log == [["passage: a", "passage: bb"], ["passage: ccc"]]
    assert vectors.shape == (3, 3) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors[0][0] < vectors[2][0]  # rows in the order of the texts, not the reply's
    embedder.embed_query("q")
    assert log[-1] == ["query: q"]
    assert embedder.dim == 3


def test_a_busy_server_is_retried_and_a_refusal_is_not(scripted: Any) -> None:
    server, log, script = scripted
    embedder = OpenAICompatibleEmbedder(server.url + "/v1", "m", retries=2)
    script += [503, 429, 200]
    assert embedder.embed_query("q").shape == (3,)
    assert len(log) == 3
    script += [401]
    with pytest.raises(EmbeddingServerError, match="401"):
        embedder.embed_query("q")
    assert len(log) == 4  # not retried


def test_a_server_that_is_down_says_where_it_was_looked_for() -> None:
    embedder = OpenAICompatibleEmbedder("http://127.0.0.1:9/v1", "m", retries=1, timeout_s=1)
    with pytest.raises(EmbeddingServerError, match="RAG_EMBEDDING_BASE_URL"):
        embedder.embed_query("q")


def test_prefixes_follow_the_model_family() -> None:
    assert default_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert default_prefixes("BAAI/bge-m3") == ("", "")


@pytest.mark.real_model
def test_the_bundled_e5_served_remotely_gives_its_own_vectors_and_answers_search(
    real_embedder: Any, settings: Settings
) -> None:
    """Served over HTTP as a TEI would serve it, e5 gives the vectors it gives in process;
    a knowledge base built that way is searched as one built locally, and refuses a
    different model."""
    log: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        return [v.tolist() for v in real_embedder._encode(texts, "")]  # raw text, no prefix

    with LiveServer(embeddings_app(embed, log)) as server:
        remote_settings = settings.model_copy(
            update={
                "embedding_backend": "openai",
                "embedding_base_url": server.url + "/v1",
                "embedding_model": BUNDLED_E5,
                "embedding_query_prefix": "query: ",  # the bundled name does not say e5-
                "embedding_passage_prefix": "passage: ",
            }
        )
        remote = embedder_from_settings(remote_settings)
        passages = ["示范区新建5G基站6000个。", "Rustdoc warns by default."]
        local_vectors = real_embedder.embed_passages(passages)
        assert np.allclose(remote.embed_passages(passages), local_vectors, atol=1e-5)
        assert np.allclose(
            remote.embed_query("5G基站"), real_embedder.embed_query("5G基站"), atol=1e-5
        )

        service = RagService(remote_settings, embedder=remote)
        report = service.ingest(progress=False)
        assert report.added and not report.failed
        hits = service.search("示范区新建多少个5G基站？", 3)
        assert hits[0].source == "plan.txt"

        other = remote_settings.model_copy(update={"embedding_model": "BAAI/bge-m3"})
        with pytest.raises(KnowledgeBaseError, match="built with the embedding model"):
            RagService(other, embedder=embedder_from_settings(other)).ingest(progress=False)
