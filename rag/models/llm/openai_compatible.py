"""Any OpenAI-compatible chat endpoint (vLLM, a llama.cpp server, Ollama): the way out
when one machine is not enough."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from rag.errors import LLMError
from rag.models.llm.base import Generation
from rag.types import ChatMessage


class OpenAICompatibleChatModel:
    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120):
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._model = model
        self._timeout = timeout
        self.model_id = f"openai:{model}@{base_url}"

    def stream(self, messages: Sequence[ChatMessage], how: Generation) -> Iterator[str]:
        """Closing the HTTP stream (on cancel, between pieces) tells the server to stop."""
        import httpx

        body = {
            "model": self._model,
            "stream": True,
            "max_tokens": how.max_tokens,
            "temperature": how.temperature,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        try:
            with httpx.stream(
                "POST", self._url, json=body, headers=self._headers, timeout=self._timeout
            ) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise LLMError(f"{self._url} answered {resp.status_code}: {resp.text[:200]}")
                for line in resp.iter_lines():
                    how.check()
                    piece = _delta(line)
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach the model server at {self._url}: {exc}") from exc


def _delta(line: str) -> str | None:
    """The text in one server-sent-events line, if any."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choice = json.loads(data)["choices"][0]
    except (json.JSONDecodeError, KeyError, IndexError):
        return None
    return (choice.get("delta") or {}).get("content")
