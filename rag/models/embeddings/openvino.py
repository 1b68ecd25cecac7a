"""A sentence-transformers folder run by OpenVINO: the same vectors, faster on a CPU.

The folder's transformer is converted once into OpenVINO's format (cached beside the
folder's cache, written atomically) and pooled and normalised here as the folder's
sentence-transformers modules say. OpenVINO picks the CPU's fastest exact-enough
precision itself: f32 where the CPU has only AVX2 (vectors equal to torch's to 1e-6),
bf16 on CPUs with native bf16 (AVX-512 bf16, AMX; cosine to fp32 0.99999 in MODELS.md).
`benchmarks/bench_embedding.py` measures it against the torch backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = "1"  # bump when the conversion below changes


class OpenVinoEmbedder:
    def __init__(
        self,
        folder: Path,
        model_id: str,
        *,
        cache_dir: Path,
        batch_size: int = 16,
        threads: int = 2,
    ):
        import openvino as ov
        from transformers import AutoTokenizer

        self.model_id = model_id
        self._folder = folder
        self._pooling = _pooling_mode(folder)
        self._prompts = _prompts(folder)
        self._max_tokens = _max_tokens(folder)
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        ir = ensure_openvino_model(folder, cache_dir)
        core = ov.Core()
        self._model = core.compile_model(
            core.read_model(str(ir)),
            "CPU",
            {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1},
        )
        self._batch_size = batch_size
        self.dim = int(self._encode(["dim"], "")[0].shape[0])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self._encode(texts, self._prompts.get("passage", ""))

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._encode([text], self._prompts.get("query", ""))[0])

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        ids = self._tokenizer(
            [prompt + t for t in texts], truncation=True, max_length=self._max_tokens
        )["input_ids"]
        # Batches of like length: padding is computed like any token, so a batch costs
        # as much as its longest text times its size.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), 0), np.float32)
        for first in range(0, len(order), self._batch_size):
            rows = order[first : first + self._batch_size]
            vectors = self._run([ids[i] for i in rows])
            if out.shape[1] == 0:
                out = np.zeros((len(ids), vectors.shape[1]), np.float32)
            out[rows] = vectors
        return out

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(row) for row in ids)
        pad = self._tokenizer.pad_token_id or 0
        input_ids = np.full((len(ids), width), pad, np.int64)
        mask = np.zeros((len(ids), width), np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        hidden = np.asarray(
            self._model({"input_ids": input_ids, "attention_mask": mask})[0], np.float32
        )
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), np.float32)


def ensure_openvino_model(folder: Path, cache_dir: Path) -> Path:
    """The folder's transformer in OpenVINO's format, converted on first use."""
    target = cache_dir / "models" / "openvino" / f"{folder.name}-{_fingerprint(folder)}"
    ir = target / "model.xml"
    if ir.exists():
        return ir
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".ov-build-", dir=target.parent))
    try:
        _convert(folder, tmp / "model.xml")
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not ir.exists():
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ir


def _convert(folder: Path, ir: Path) -> None:
    import openvino as ov
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask)[0]

    model = AutoModel.from_pretrained(str(folder)).eval()
    example = {
        "input_ids": torch.ones((2, 8), dtype=torch.long),
        "attention_mask": torch.ones((2, 8), dtype=torch.long),
    }
    # The converter reports usage to Intel unless it believes it runs in CI; nothing may
    # leave this machine, so it is told so for the conversion.
    previous = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        with torch.no_grad():
            converted = ov.convert_model(
                LastHiddenState(model),
                example_input=example,
                input=[("input_ids", [-1, -1]), ("attention_mask", [-1, -1])],
            )
    finally:
        if previous is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = previous
    ov.save_model(converted, str(ir), compress_to_fp16=False)


def _fingerprint(folder: Path) -> str:
    """Changes when the folder's weights or configuration change."""
    digest = hashlib.sha256(FORMAT_VERSION.encode())
    for path in sorted(folder.iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _prompts(folder: Path) -> dict[str, str]:
    return dict(_read_json(folder / "config_sentence_transformers.json").get("prompts") or {})


def _max_tokens(folder: Path) -> int:
    return int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length") or 512)


def _pooling_mode(folder: Path) -> str:
    config = _read_json(folder / "1_Pooling" / "config.json")
    if config.get("pooling_mode_cls_token"):
        return "cls"
    if config and not config.get("pooling_mode_mean_tokens", True):
        raise ValueError(
            f"{folder}: only mean or CLS pooling runs on OpenVINO here;"
            " set RAG_EMBEDDING_BACKEND=sentence-transformers"
        )
    return "mean"
