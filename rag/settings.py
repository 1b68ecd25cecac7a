"""All settings in one place.

Values come from, highest priority first: keyword arguments, environment variables
(`RAG_` prefix, e.g. `RAG_KB=mykb`), a TOML file (`RAG_CONFIG` or `./rag.toml`), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_E5 = "bundled:multilingual-e5-small"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jinan-rag"


def _config_file() -> Path:
    return Path(os.environ.get("RAG_CONFIG", "rag.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    # Where things live
    index_dir: Path = PROJECT_ROOT / "index"
    corpus_dir: Path = PROJECT_ROOT / "corpus" / "jinan"
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    kb: str = "jinan"

    # Embeddings: the bundled e5 model, or any sentence-transformers name or folder
    embedding_model: str = BUNDLED_E5
    # "openvino" runs the model's transformer with OpenVINO (same vectors, faster on a
    # CPU: benchmarks/bench_embedding.py); "sentence-transformers" runs it with torch
    embedding_backend: str = "openvino"
    # sentence-transformers only: int8 dynamic quantisation of the Linear layers: ~1.4x faster on CPU, but it moves
    # e5's narrowly spaced scores enough to cost retrieval quality (benchmarks/README.md)
    embedding_int8: bool = False
    embedding_batch_size: int = 16
    # "openai": any server with OpenAI's /v1/embeddings (TEI, vLLM, Infinity, Ollama) at
    # this URL, sent embedding_model as the model's name; batched, timed out, retried
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    embedding_timeout_s: float = 60.0
    embedding_retries: int = 3
    # put in front of queries and passages sent to a server; None: "query: "/"passage: "
    # for E5 models (trained with them), nothing for others
    embedding_query_prefix: str | None = None
    embedding_passage_prefix: str | None = None
    threads: int = 2

    # Chunking (characters; Chinese runs at roughly 1.3 characters per e5 token)
    chunk_size: int = 300
    chunk_overlap: int = 80
    # what each chunk's embedded and keyword-indexed text starts with: "title+section"
    # (the document's title and the chunk's headings), "section" or "none"
    chunk_labels: Literal["title+section", "section", "none"] = "title+section"

    # Ingest: what a folder walk follows, and how much one file may cost
    ingest_follow_symlinks: bool = False  # links that lead out of the folder ingested
    ingest_max_depth: int = 64  # of nested folders
    ingest_max_chunks_per_file: int = 20_000  # ~6 MB of text, ~30 min of embedding here
    ingest_commit_chunks: int = 256  # committed together; a kill loses at most these
    # Scans and images of pages are read by OCR (RapidOCR, a few seconds a page here);
    # false refuses them instead
    ocr: bool = True

    # Retrieval
    top_k: int = 5
    # Dense search is exact (FAISS flat) up to this many chunks in a knowledge base and
    # an inverted file (IVF) above, searching its nprobe nearest lists. Flat search
    # passes 20 ms near 130,000 chunks on 2 cores; IVF at nprobe 256 keeps recall@10 at
    # 0.967 and p50 at 9.1 ms for a million (benchmarks/bench_vector_index.py)
    vector_index_exact_up_to: int = 130_000
    vector_index_nprobe: int = 256
    # Where a knowledge base's vectors, keyword index and citation fields are searched:
    # "faiss" (files in its folder) or "milvus" at milvus_uri, a Milvus Lite file (None:
    # milvus.db in index_dir) or a server, "http://host:19530", with milvus_token
    vector_store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str | None = None
    milvus_token: str | None = None
    # `rag serve` has the language model write a few questions from each knowledge base's
    # passages, in the background, and offers those it answers (rag/answer/suggestions.py)
    suggest_questions: bool = True
    # A question in one language over documents partly in the other (Chinese / English)
    # is also searched as the language model translates it (a few seconds a question)
    translate_questions: bool = True
    # Fusion tuned on eval/jinan_qa.jsonl with benchmarks/fusion_sweep.py: BM25 carries
    # exact names and numbers better than e5-small, and a small k trusts the top ranks.
    candidates: int = 40  # per retriever, before fusion
    rrf_k: int = 10
    dense_weight: float = 1.0
    bm25_weight: float = 2.0

    # Language model: "llama_cpp" (bundled Qwen2.5-1.5B GGUF), "openai", "transformers"
    llm_backend: str = "llama_cpp"
    llm_model_path: str | None = None  # a GGUF (llama_cpp) or a model folder (transformers)
    llm_base_url: str | None = None  # openai: e.g. http://gpu-box:8000/v1
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_context_tokens: int = 4096
    llm_max_tokens: int = 220  # answers stop here: about 11 s at 20 tokens/s
    # llama.cpp's repacked Q4_K weights evaluated prompts slower on the 2-core EPYC
    # (benchmarks/bench_llama_speed.py); turn on where that benchmark says otherwise
    llm_repack: bool = False
    # greedy answers read up to this many tokens guessed from the prompt in each step
    # (prompt lookup); 0: one token a step. benchmarks/speculative_decoding.py decides
    llm_draft_tokens: int = 0
    # The type llama.cpp keeps keys and values in: "f16", or "q8_0" at about half the
    # memory and half the disk for passage states (benchmarks/passage_states.py)
    llm_kv_type: Literal["f16", "q8_0"] = "f16"

    # Answers: the passages given to the model, in characters (~1.4 per Qwen token);
    # at ~50 prompt tokens/s on 2 cores (benchmarks/bench_llama_speed.py) this budget
    # decides the wait before the first token.
    answer_passages: int = 5
    answer_context_chars: int = 900
    # Passage states (issue 15): with the llama.cpp backend, each passage is read once
    # after the answer prompt's fixed start, its key/value state kept in the knowledge
    # base's folder (within this many MB) and joined to later prompts instead of read
    # again. Passages are then given whole, never cut to fit the question.
    passage_states: bool = False
    passage_states_max_mb: int = 4096
    # Give passages whole, first and then the question (prompts/answer_user_whole.txt),
    # as passage states always do, also without them: the plain side of
    # benchmarks/passage_states.py
    answer_whole_passages: bool = False
    # Refuse before generating when the passages cover less of the question's words
    # (weighed by rarity) than this: chosen across the bundled and the cross-language
    # set with benchmarks/calibrate_refusal.py
    refusal_min_coverage: float = 0.3
    # Each knowledge base's own threshold, fitted on questions written from its passages
    # (`rag kb calibrate`; `rag serve` fits the default one in the background). Off:
    # fitted thresholds refused more answerable questions of eval/jinan_qa.jsonl than
    # the default (benchmarks/README.md)
    calibrate_refusal: bool = False
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    # Limits every front end shares: questions are cut off here, and an answer stops
    # at llm_max_tokens or after this long, whichever comes first
    max_question_chars: int = 1000
    answer_timeout_s: float = 120.0

    # Server (`rag serve`)
    host: str = "127.0.0.1"
    port: int = 7860
    # llama.cpp already uses both cores for one answer: two at once only slow both
    max_concurrent_answers: int = 1
    max_waiting: int = 32  # beyond this a request is told the server is busy
    queue_timeout_s: float = 300.0  # a request that waits longer gets a clear timeout
    max_request_bytes: int = 1_000_000
    # When set, the API, the widget and the chat UI want this token (Bearer, ?token=)
    access_token: str | None = None
    # Changing knowledge bases (create, upload, delete, re-index) wants this token when
    # it is set (X-Admin-Token or Bearer); when it is not, only this machine may change them
    admin_token: str | None = None
    max_upload_bytes: int = 50_000_000  # a file; an upload's request may hold many
    max_upload_files: int = 20  # in one request
    # Pages allowed to embed the widget or call the API (CSP frame-ancestors and CORS);
    # "*" in a port or host part matches anything there
    embed_origins: list[str] = ["http://localhost:*", "http://127.0.0.1:*"]
    widget_title: str = "知识库问答"
    widget_color: str = "#b22222"
    ui_language: str = "zh"  # "zh" or "en": the default interface language

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    def kb_dir(self, kb: str | None = None) -> Path:
        return self.index_dir / (kb or self.kb)
