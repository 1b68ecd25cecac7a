"""The Milvus engine: a knowledge base's vectors, keyword index and citation fields in a
Milvus collection, so that search needs neither the FAISS file nor the catalog's text.

One code path for Milvus Lite (`RAG_MILVUS_URI` a local file: in process, for tests and
small sites) and a Milvus server or cluster (`http://host:19530`, with a token). The
catalog stays the ingest's journal on the machine that ingests: after each ingest the
collection is brought level with it (`MilvusStore.sync`), by chunk id and a fingerprint
of each chunk's document version and span, so nothing is embedded again. Keyword search
runs in the engine too, as sparse vectors of the chunk's jieba words (the ones the FAISS
engine's BM25 reads) scored by inner product into BM25: Milvus's own BM25 function
re-splits Chinese with its jieba and ranked differently (bundled set hit@5 0.986 against
0.971, MRR 0.852 against 0.857), these rank as the FAISS engine does. Each word's
document count, which BM25's idf, the fusion and the evidence check need, is kept in a
second collection beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from rag.errors import KnowledgeBaseError
from rag.store.catalog import Catalog, ChunkRow
from rag.store.keyword_index import TermStats
from rag.text.scripts import han_share

_TERMS = "_terms"  # the collection of word counts beside a knowledge base's
_ABOUT = "rag.about"  # the collection property that says whose it is (JSON)
_BATCH = 1000  # rows a Milvus insert or read carries
_TEXT_MAX = 65_535  # a VARCHAR's limit in Milvus, in bytes
# The analyzer of the tokens field: the catalog's tokens are jieba's already, joined by
# spaces; the engine's jieba splits them again the same way on both sides
_K1, _B = 1.5, 0.75  # BM25's saturation and length normalisation, as bm25s's defaults
_DIMS = 2**32 - 2  # sparse indices stay below 2**32 - 1; this one is kept for empty chunks
# ChunkRow's fields kept in the collection, in ChunkRow's order after the id
_ROW_FIELDS = (
    "source",
    "path",
    "section",
    "start",
    "end",
    "text",
    "context",
    "title",
    "page_starts",
    "ocr_pages",
)
_INT_FIELDS = {"start", "end"}


def collection_name(kb: str) -> str:
    """Milvus names take letters, digits and '_': a knowledge-base name with '-' keeps
    its readable part and a hash that keeps "a-b" and "a_b" apart."""
    digest = hashlib.sha1(kb.encode()).hexdigest()[:8]
    return f"rag_{kb.replace('-', '_')}_{digest}"


class MilvusStore:
    """One Milvus (Lite file or server) holding the collections of knowledge bases."""

    _clients: ClassVar[dict[tuple[str, str], Any]] = {}
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, uri: str, token: str | None = None):
        self.uri = uri
        self.token = token or ""
        self.lite = not uri.startswith(("http://", "https://", "tcp://", "unix:"))

    @property
    def client(self) -> Any:
        """One client per Milvus in a process: Milvus Lite runs one engine per file."""
        key = (self.uri, self.token)
        with self._clients_lock:
            if key not in self._clients:
                try:
                    from pymilvus import MilvusClient
                except ImportError as exc:
                    raise KnowledgeBaseError(
                        "RAG_VECTOR_STORE=milvus needs pymilvus; run `make setup`"
                    ) from exc
                if self.lite:
                    # Milvus Lite's in-process server logs a harmless "Method not
                    # implemented" traceback (AllocTimestamp) on creating a collection
                    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
                try:
                    self._clients[key] = MilvusClient(self.uri, token=self.token)
                except Exception as exc:  # grpc errors, a locked file, a bad URI
                    hint = (
                        " Milvus Lite lets one process open a file: stop the other one"
                        " (a running `rag serve`: upload through it instead) or use a"
                        " Milvus server."
                        if self.lite
                        else ""
                    )
                    raise KnowledgeBaseError(
                        f"cannot open Milvus at {self.uri}: {exc}. Check RAG_MILVUS_URI "
                        f"(a local .db file, or http://host:19530) and RAG_MILVUS_TOKEN.{hint}"
                    ) from exc
            return self._clients[key]

    # ------------------------------------------------------------------ writing

    def sync(
        self,
        kb: str,
        catalog: Catalog,
        dim: int,
        progress: Callable[[int, int], None] | None = None,
        replace: bool = False,
    ) -> int:
        """Bring the collection level with the catalog; returns the rows written.
        A catalog the collection was not filled from fills it from scratch: a new
        knowledge base, or with `replace` a rebuilt one or a migration. Without
        `replace`, a collection filled from another index folder (another machine's)
        is refused rather than emptied."""
        name = collection_name(kb)
        marker = f"{self.uri} {name}"
        generation = catalog.generation()
        if catalog.get_meta("milvus.synced") == f"{marker} {generation}":
            return 0
        fresh = not (catalog.get_meta("milvus.synced") or "").startswith(marker + " ")
        about = self.about(kb)
        if fresh and about and about.get("catalog") != catalog.identity() and not replace:
            raise KnowledgeBaseError(
                f"knowledge base {kb!r} in Milvus at {self.uri} was filled from another "
                "index folder: add documents where it was built, or replace it with this "
                f"folder's with `rag kb migrate {kb} --to milvus`"
            )
        if fresh or about is None:
            model = catalog.get_meta("embedding_model") or ""
            self._create(name, dim, {"kb": kb, "catalog": catalog.identity(), "model": model})
        have = {} if fresh else self._fingerprints(name)
        want = catalog.chunk_fingerprints()
        df_change: Counter[str] = Counter()  # how the words' document counts change
        stale = [cid for cid, fp in have.items() if want.get(cid) != fp]
        for first in range(0, len(stale), _BATCH):
            batch = stale[first : first + _BATCH]
            for row in self.client.get(name, ids=batch, output_fields=["tokens"]):
                df_change.subtract(set(row["tokens"].split()))
            self.client.delete(name, ids=batch)
        missing = [cid for cid, fp in want.items() if have.get(cid) != fp]
        mean_length = catalog.mean_tokens()
        for first in range(0, len(missing), _BATCH):
            batch = missing[first : first + _BATCH]
            entities = [_entity(r, mean_length) for r in catalog.export_rows(batch)]
            for entity in entities:
                df_change.update(set(entity["tokens"].split()))
            self.client.insert(name, entities)
            if progress:
                progress(first + len(batch), len(missing))
        self._count_terms(name + _TERMS, df_change)
        self.client.flush(name)
        catalog.set_meta("milvus.synced", f"{marker} {generation}")
        return len(missing)

    def drop(self, kb: str) -> None:
        self.drop_collections(collection_name(kb))

    def _count_terms(self, terms: str, change: Counter[str]) -> None:
        """Add the change to each word's document count in the terms collection."""
        changed = [(term_id(t), n) for t, n in change.items() if n]
        for first in range(0, len(changed), _BATCH):
            batch = dict(changed[first : first + _BATCH])
            now = {
                int(r["id"]): int(r["df"])
                for r in self.client.get(terms, ids=list(batch), output_fields=["df"])
            }
            counts = {tid: now.get(tid, 0) + n for tid, n in batch.items()}
            gone = [tid for tid, df in counts.items() if df <= 0]
            kept = [{"id": tid, "df": df, "v": [0.0, 0.0]} for tid, df in counts.items() if df > 0]
            if gone:
                self.client.delete(terms, ids=gone)
            if kept:
                self.client.upsert(terms, kept)
        self.client.flush(terms)

    def _create(self, name: str, dim: int, about: dict[str, str]) -> None:
        from pymilvus import DataType

        self.drop_collections(name)
        self._create_terms(name + _TERMS)
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("fingerprint", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("tokens", DataType.VARCHAR, max_length=_TEXT_MAX)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)  # the BM25 side of a chunk
        for field in _ROW_FIELDS:
            if field in _INT_FIELDS:
                schema.add_field(field, DataType.INT64)
            else:
                schema.add_field(field, DataType.VARCHAR, max_length=_TEXT_MAX)
        index = self.client.prepare_index_params()
        # Lite offers FLAT and IVF; a server picks its own (HNSW, DiskANN, GPU) by size
        index.add_index("vector", index_type="FLAT" if self.lite else "AUTOINDEX", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        self.client.create_collection(name, schema=schema, index_params=index)
        # what another process needs with no index folder: whose it is, which model
        self.client.alter_collection_properties(name, properties={_ABOUT: json.dumps(about)})

    def drop_collections(self, *names: str) -> None:
        for name in (*names, *(n + _TERMS for n in names)):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def _create_terms(self, terms: str) -> None:
        """Each word's document count, keyed by a hash of the word: what BM25's idf and
        the evidence check weigh words by, read in one lookup a question. (Milvus wants
        a vector in every collection: `v` is a placeholder.)"""
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("df", DataType.INT64)
        schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
        index = self.client.prepare_index_params()
        index.add_index("v", index_type="FLAT" if self.lite else "AUTOINDEX", metric_type="L2")
        self.client.create_collection(terms, schema=schema, index_params=index)

    def _fingerprints(self, name: str) -> dict[int, int]:
        return {
            int(row["id"]): int(row["fingerprint"])
            for row in self._all(name, ["id", "fingerprint"])
        }

    def _all(self, name: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        it = self.client.query_iterator(name, batch_size=_BATCH, filter="", output_fields=fields)
        try:
            while batch := it.next():
                yield from batch
        finally:
            it.close()

    # ------------------------------------------------------------------ reading

    def about(self, kb: str) -> dict[str, str] | None:
        """What a knowledge base's collection says of itself (its name, the catalog it
        was filled from, its embedding model); None when there is none."""
        name = collection_name(kb)
        return self._about(name) if self.client.has_collection(name) else None

    def _about(self, name: str) -> dict[str, str]:
        properties = self.client.describe_collection(name).get("properties") or {}
        try:
            about = json.loads(properties.get(_ABOUT) or "{}")
        except ValueError:
            return {}
        return about if isinstance(about, dict) else {}

    def knowledge_bases(self) -> list[str]:
        """The knowledge bases this Milvus holds, by the names they were filled under."""
        names = []
        for name in self.client.list_collections():
            if name.startswith("rag_") and not name.endswith(_TERMS):
                kb = self._about(name).get("kb", "")
                if kb and collection_name(kb) == name:
                    names.append(kb)
        return sorted(names)

    def search_index(self, kb: str) -> MilvusSearchIndex:
        name = collection_name(kb)
        if not self.client.has_collection(name):
            raise KnowledgeBaseError(
                f"knowledge base {kb!r} has no collection in Milvus at {self.uri}; "
                f"copy it there with `rag kb migrate {kb} --to milvus`"
            )
        if not self.client.has_collection(name + _TERMS):  # filled before they were kept
            raise KnowledgeBaseError(
                f"knowledge base {kb!r} in Milvus at {self.uri} lacks its word counts; "
                f"copy it there again with `rag kb migrate {kb} --to milvus`"
            )
        self.client.load_collection(name)
        self.client.load_collection(name + _TERMS)
        return MilvusSearchIndex(self, name)


class MilvusSearchIndex(TermStats):
    """SearchIndex over one collection, as it is when opened; counts are remembered."""

    def __init__(self, store: MilvusStore, name: str):
        self.client = store.client
        self.name = name
        self.terms = name + _TERMS
        self.size = self._count("")
        self._df: dict[str, int] = {}
        self._han_share: float | None = None
        self._han_share_read = False

    @property
    def han_share(self) -> float | None:
        """Of a sample of the collection's tokens: enough to tell Chinese from English."""
        if not self._han_share_read:
            self._han_share_read = True
            rows = self.client.query(self.name, filter="", output_fields=["tokens"], limit=2000)
            self._han_share = han_share(tok for row in rows for tok in row["tokens"].split())
        return self._han_share

    def dense(self, vector: np.ndarray, n: int) -> list[int]:
        found = self.client.search(
            self.name,
            data=[np.asarray(vector, np.float32).ravel().tolist()],
            anns_field="vector",
            limit=n,
            search_params={"metric_type": "IP"},
        )
        return [int(hit["id"]) for hit in found[0]]

    def keyword(self, tokens: Sequence[str], n: int) -> list[int]:
        """BM25 as an inner product: each chunk stores its words' saturated term
        frequencies, the query brings each word's idf (from the counts now), so the
        ranking is the FAISS engine's BM25 (bm25s, Lucene's formula)."""
        self.read_counts(tokens)
        query: dict[int, float] = {}
        for token in tokens:
            if self.df(token):
                dim = term_dim(token)
                query[dim] = query.get(dim, 0.0) + self.idf(token)
        if not self.size or not query:
            return []
        found = self.client.search(
            self.name,
            data=[query],
            anns_field="sparse",
            limit=n,
            search_params={"metric_type": "IP"},
        )
        return [int(hit["id"]) for hit in found[0] if hit["distance"] > 0]

    def df(self, token: str) -> int:
        if token not in self._df:
            self.read_counts([token])
        return self._df[token]

    def read_counts(self, tokens: Sequence[str]) -> None:
        """Fetch the document counts of the words not yet known, in one lookup."""
        wanted = {term_id(t): t for t in set(tokens) if t not in self._df}
        if not wanted:
            return
        found = self.client.get(self.terms, ids=list(wanted), output_fields=["df"])
        counts = {int(r["id"]): int(r["df"]) for r in found}
        for tid, token in wanted.items():
            self._df[token] = counts.get(tid, 0)

    def coverage(self, query_tokens: Sequence[str]) -> float:
        self.read_counts(query_tokens)
        return super().coverage(query_tokens)

    def rows(self, ids: Sequence[int]) -> dict[int, ChunkRow]:
        if not ids:
            return {}
        found = self.client.get(self.name, ids=list(ids), output_fields=list(_ROW_FIELDS))
        return {
            int(r["id"]): ChunkRow(int(r["id"]), *(r[field] for field in _ROW_FIELDS))
            for r in found
        }

    def _count(self, condition: str) -> int:
        rows = self.client.query(self.name, filter=condition, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0


def bm25_terms(tokens: list[str], mean_length: float) -> dict[int, float]:
    """A chunk's side of BM25 (Lucene's, as bm25s scores it): each word's term frequency
    saturated by k1 and normalised by the chunk's length against the mean length of
    the knowledge base's chunks when it was copied (a mean that drifts as the knowledge
    base grows changes rankings little; a rebuild makes it exact again)."""
    counts = Counter(tokens)
    norm = _K1 * (1 - _B + _B * len(tokens) / max(mean_length, 1e-9))
    weights: dict[int, float] = {}
    for token, tf in counts.items():
        dim = term_dim(token)
        weights[dim] = weights.get(dim, 0.0) + tf / (tf + norm)
    return weights


def term_dim(token: str) -> int:
    """A word's dimension in the sparse vectors (Milvus takes 32-bit indices)."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest()) % _DIMS


def _entity(exported: tuple[ChunkRow, np.ndarray, str, int], mean_length: float) -> dict[str, Any]:
    row, vector, tokens, fp = exported
    words = tokens.split()
    entity: dict[str, Any] = {
        "id": row.id,
        "fingerprint": fp,
        "vector": vector.tolist(),
        "tokens": _fit(tokens),
        # a chunk without words gets a placeholder that no query holds
        "sparse": bm25_terms(words, mean_length) or {_DIMS: 1e-9},
    }
    for field in _ROW_FIELDS:
        value = getattr(row, field)
        entity[field] = value if field in _INT_FIELDS else _fit(value)
    return entity


def _fit(text: str) -> str:
    """Within a VARCHAR's bytes, cut at a character boundary."""
    data = text.encode()
    return text if len(data) <= _TEXT_MAX else data[:_TEXT_MAX].decode(errors="ignore")


def term_id(token: str) -> int:
    """A word's key in the terms collection: 64 bits of its hash."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), signed=True)
