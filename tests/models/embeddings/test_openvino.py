"""The OpenVINO backend gives the torch backend's vectors, from a model it converts once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.models.embeddings import embedder_from_settings
from rag.models.embeddings.openvino import OpenVinoEmbedder, ensure_openvino_model
from rag.settings import Settings

pytestmark = pytest.mark.real_model

TEXTS = [
    "实际使用外资保持平稳增长,制造业外资占比达到15%以上。",
    "The output directory is set with -o or --out-dir.",
    "短",
]


def test_openvino_vectors_equal_sentence_transformers(real_embedder) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(real_embedder, OpenVinoEmbedder)  # the default backend
    torch_backend = embedder_from_settings(Settings(embedding_backend="sentence-transformers"))
    ours, theirs = real_embedder.embed_passages(TEXTS), torch_backend.embed_passages(TEXTS)
    assert ours.shape == theirs.shape == (3, 384)
    assert (ours * theirs).sum(axis=1).min() > 0.9999
    query = "外资占比"
    assert float(real_embedder.embed_query(query) @ torch_backend.embed_query(query)) > 0.9999
    # a batch of mixed lengths is reordered for speed; each vector stays with its text
    one_by_one = np.vstack([real_embedder.embed_passages([t]) for t in TEXTS])
    assert (one_by_one * ours).sum(axis=1).min() > 0.9999


def test_the_converted_model_is_cached_and_rebuilt_when_the_folder_changes(
    real_embedder,  # type: ignore[no-untyped-def]
) -> None:
    from rag.models.embeddings.bundled_e5 import ensure_bundled_e5

    settings = Settings()
    folder = ensure_bundled_e5(settings.cache_dir)
    first = ensure_openvino_model(folder, settings.cache_dir)
    modified = first.stat().st_mtime_ns
    assert ensure_openvino_model(folder, settings.cache_dir) == first
    assert first.stat().st_mtime_ns == modified
    assert not list(first.parent.parent.glob(".ov-build-*"))  # no half-built folder left


def test_an_unsupported_pooling_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    from rag.models.embeddings.bundled_e5 import ensure_bundled_e5

    folder = tmp_path / "max-pooled"
    folder.mkdir()
    for item in ensure_bundled_e5(Settings().cache_dir).iterdir():
        if item.is_file():
            (folder / item.name).symlink_to(item)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True})
    )
    with pytest.raises(ValueError, match="RAG_EMBEDDING_BACKEND=sentence-transformers"):
        OpenVinoEmbedder(folder, "max", cache_dir=tmp_path / "cache")
