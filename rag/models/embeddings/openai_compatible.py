"""Embeddings from a server that speaks OpenAI's `/v1/embeddings` (Text Embeddings
Inference, vLLM, Infinity, Ollama): the way out when embedding outgrows this machine.

Requests go in batches, each with a timeout, and are retried with a growing pause when
the server is busy or briefly away (HTTP 429 and 5xx, connection errors); other refusals
(a wrong model name, a bad key) are reported at once. The vectors are L2-normalised here,
whatever the server does. The knowledge base records `model_id` as for a local model,
so an index built with another model is refused as before.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.errors import RagError

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class EmbeddingServerError(RagError):
    code = "unavailable"


def default_prefixes(model: str) -> tuple[str, str]:
    """(query, passage) prefixes: E5 models were trained with "query: " and "passage: "
    in front of the text (sentence-transformers adds them from the model's own config;
    a server given raw text does not), other models with none."""
    return ("query: ", "passage: ") if "e5" in model.lower().replace("_", "-") else ("", "")


class OpenAICompatibleEmbedder:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        batch_size: int = 32,
        timeout_s: float = 60.0,
        retries: int = 3,
        prefixes: tuple[str | None, str | None] = (None, None),
    ):
        import httpx

        self._url = base_url.rstrip("/") + "/embeddings"
        self._client = httpx.Client(
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )
        self._model = model
        self._batch_size = max(1, batch_size)
        self._retries = retries
        # what a caller leaves None follows the model family
        query, passage = default_prefixes(model)
        self._query_prefix = query if prefixes[0] is None else prefixes[0]
        self._passage_prefix = passage if prefixes[1] is None else prefixes[1]
        self.model_id = model
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._request(["dimension probe"]).shape[1])
        return self._dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        batches = [
            self._request([self._passage_prefix + t for t in texts[i : i + self._batch_size]])
            for i in range(0, len(texts), self._batch_size)
        ]
        return np.vstack(batches)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._request([self._query_prefix + text])[0])

    def _request(self, inputs: list[str]) -> np.ndarray:
        import httpx

        body = {"model": self._model, "input": inputs, "encoding_format": "float"}
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                response = self._client.post(self._url, json=body)
            except httpx.HTTPError as exc:
                if last:
                    raise EmbeddingServerError(
                        f"无法连接向量模型服务 {self._url}：{exc}",
                        f"cannot reach the embedding server at {self._url}: {exc};"
                        " check RAG_EMBEDDING_BASE_URL",
                    ) from exc
            else:
                if response.status_code == 200:
                    return self._vectors(response.json(), len(inputs))
                if response.status_code not in RETRY_STATUS or last:
                    raise EmbeddingServerError(
                        f"向量模型服务 {self._url} 返回 {response.status_code}",
                        f"the embedding server at {self._url} answered"
                        f" {response.status_code}: {response.text[:200]}",
                    )
            time.sleep(min(8.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")

    def _vectors(self, payload: dict[str, Any], n: int) -> np.ndarray:
        try:
            rows = sorted(payload["data"], key=lambda d: d["index"])
            vectors = np.asarray([row["embedding"] for row in rows], np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingServerError(
                f"向量模型服务 {self._url} 的回复格式不对",
                f"the embedding server at {self._url} sent no embeddings"
                f" in OpenAI's format ({exc})",
            ) from exc
        if vectors.ndim != 2 or len(vectors) != n:
            raise EmbeddingServerError(
                f"向量模型服务返回了 {len(vectors)} 个向量，应为 {n} 个",
                f"the embedding server sent {len(vectors)} vectors for {n} texts",
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), np.float32)
