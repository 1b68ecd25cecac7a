"""The one door: the CLI, the server, the chat, the eval and the LangChain retriever call
this and nothing below it.

It owns the expensive objects (the embedding model, open knowledge bases) and builds
them on first use, so a command that does not need a model never loads one.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from rag.answer.pipeline import AnswerPipeline, AnswerSettings, Prompts
from rag.answer.question import check_question
from rag.errors import KnowledgeBaseError
from rag.ingest.loaders import load_document
from rag.ingest.ocr import PageReader
from rag.ingest.run import (
    ChunkingSettings,
    Embedded,
    IngestLimits,
    IngestReport,
    ingest,
    remove,
)
from rag.ingest.uploads import FileResult, index_received, receive_all
from rag.models.embeddings.base import Embedder
from rag.models.llm.base import ChatModel, PassageReader
from rag.retrieve.hybrid import FusionWeights, HybridRetriever
from rag.retrieve.translate import translate_question
from rag.settings import Settings
from rag.store.catalog import ChunkRow, DocumentInfo
from rag.store.knowledge_base import (
    KnowledgeBase,
    index_choice,
    list_knowledge_bases,
    milvus_store,
    remove_stale_side_folders,
    require_existing,
    side_folder,
    validate_kb_name,
)
from rag.store.passage_states import PassageStates
from rag.store.uploads import FILES, Received, UploadFolder

if TYPE_CHECKING:
    from rag.evaluation.calibration import Calibration
    from rag.evaluation.kb_check import CheckQuestion, CheckReport
from rag.types import (
    Answer,
    AnswerEvent,
    ChatMessage,
    KnowledgeBaseInfo,
    SearchHit,
    SourcePassage,
)


class RagService:
    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        llm: ChatModel | None = None,
    ):
        self.settings = settings or Settings()
        self._embedder = embedder
        self._llm = llm
        self._retrievers: dict[str, HybridRetriever] = {}
        self._translations: dict[tuple[str, str], str] = {}
        self._states: dict[str, PassageStates] = {}
        self._calibrations: dict[Path, tuple[tuple[int, str], Calibration | None]] = {}
        self._states_lock = threading.Lock()
        self._upload_locks: dict[str, threading.Lock] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from rag.models.embeddings import embedder_from_settings
            from rag.models.embeddings.lazy import LazyEmbedder

            self._embedder = LazyEmbedder(
                self.settings.embedding_model, lambda: embedder_from_settings(self.settings)
            )
        return self._embedder

    @cached_property
    def chunking(self) -> ChunkingSettings:
        return ChunkingSettings.from_settings(self.settings)

    @property
    def ingest_limits(self) -> IngestLimits:
        return IngestLimits.from_settings(self.settings)

    def kb_name(self, kb: str | None) -> str:
        return validate_kb_name(kb or self.settings.kb)

    def require_kb(self, kb: str | None) -> str:
        """The name of a knowledge base that exists, or KnowledgeBaseError."""
        return require_existing(self.settings, self.kb_name(kb))

    def check_request(self, question: str, kb: str | None) -> str:
        """The question, cleaned, if it and the knowledge base are fit to answer;
        BadQuestionError or KnowledgeBaseError before anything queues or streams."""
        cleaned = check_question(question, self.settings.max_question_chars)
        self.require_kb(kb)
        return cleaned

    # ------------------------------------------------------------------ knowledge bases

    def knowledge_bases(self) -> list[str]:
        return list_knowledge_bases(self.settings)

    def kb_info(self, kb: str | None = None) -> KnowledgeBaseInfo:
        knowledge_base = KnowledgeBase.open_existing(self.settings, self.kb_name(kb))
        docs = knowledge_base.catalog.documents()
        return KnowledgeBaseInfo(
            knowledge_base.name,
            len(docs),
            sum(d.chunks for d in docs),
            knowledge_base.catalog.get_meta("embedding_model"),
            knowledge_base.options(),
            self._states_ready(knowledge_base),
        )

    def _states_ready(self, kb: KnowledgeBase) -> int:
        states = self._state_store(kb)
        if not states.folder.is_dir():
            return 0
        return len(states.chunk_ids() & kb.catalog.chunk_ids())

    def set_kb_option(self, kb: str, key: str, on: bool) -> None:
        """A knowledge base's own switch (`KnowledgeBase.OPTIONS`), e.g. OCR off."""
        knowledge_base = KnowledgeBase.open_existing(self.settings, self.kb_name(kb))
        with knowledge_base.write_lock():
            knowledge_base.set_option(key, on)

    def documents(self, kb: str | None = None) -> list[DocumentInfo]:
        """The knowledge base's documents: file, title, chunks, size."""
        return KnowledgeBase.open_existing(self.settings, self.kb_name(kb)).catalog.documents()

    def document_texts(self, kb: str | None = None) -> dict[str, str]:
        """Each document's extracted text by file name (the eval locates evidence in it)."""
        catalog = KnowledgeBase.open_existing(self.settings, self.kb_name(kb)).catalog
        return {d.name: catalog.document_text(d.id) for d in catalog.documents()}

    def prepare_models(self) -> list[tuple[str, Path]]:
        """Build and verify the bundled models once; (what, where) for each."""
        from rag.models.embeddings.bundled_e5 import ensure_bundled_e5

        folder = ensure_bundled_e5(self.settings.cache_dir)
        ready = [("embedding model", folder)]
        if self.settings.embedding_backend == "openvino":
            from rag.models.embeddings.openvino import ensure_openvino_model

            ready.append(
                (
                    "embedding model for OpenVINO",
                    ensure_openvino_model(folder, self.settings.cache_dir),
                )
            )
        if self.settings.llm_backend == "llama_cpp" and not self.settings.llm_model_path:
            from rag.models.llm.bundled_qwen import ensure_bundled_gguf

            ready.append(("language model", ensure_bundled_gguf(self.settings.cache_dir)))
        return ready

    # ------------------------------------------------------------------ ingest

    def ingest(
        self,
        paths: list[Path] | None = None,
        kb: str | None = None,
        *,
        rebuild: bool = False,
        progress: bool = True,
        embedded: Embedded | None = None,
    ) -> IngestReport:
        name = self.kb_name(kb)
        paths = paths or [self.settings.corpus_dir]
        remove_stale_side_folders(self.settings.index_dir)
        if rebuild:
            return self._rebuild(paths, name, progress)
        self._retrievers.pop(name, None)
        knowledge_base = KnowledgeBase.open(self.settings, name)
        report = ingest(
            paths,
            knowledge_base,
            self.embedder,
            self.chunking,
            self.ingest_limits,
            batch_size=self.settings.embedding_batch_size * 2,
            progress=progress,
            ocr=self.page_reader(progress, knowledge_base),
            embedded=embedded,
        )
        self.prune_passage_states(knowledge_base)  # a replaced document's chunks are gone
        return report

    def extract_text(self, path: Path) -> str:
        """A file's text as ingest reads it (OCR aside): what its chunks are cut from."""
        return load_document(path).text

    def page_reader(self, progress: bool, kb: KnowledgeBase) -> PageReader | None:
        """OCR for scanned pages and images, unless the settings or the knowledge base
        turn it off."""
        if not (self.settings.ocr and kb.option("ocr")):
            return None
        return PageReader(self.settings.cache_dir, progress)

    def _rebuild(self, paths: list[Path], name: str, progress: bool) -> IngestReport:
        """Build into a side folder and swap it in: the old index serves until the end.
        The old knowledge base's write lock is held throughout, so an ingest started
        meanwhile waits and then writes into the new one instead of being lost."""
        final = self.settings.kb_dir(name)
        staging = side_folder(self.settings.index_dir, name, "rebuild")
        shutil.rmtree(staging, ignore_errors=True)
        choice, milvus = index_choice(self.settings), milvus_store(self.settings)
        old, new = KnowledgeBase(final, choice, milvus), KnowledgeBase(staging, choice, milvus)
        with old.write_lock():
            for key, on in old.options().items():
                new.set_option(key, on)
            report = ingest(
                paths,
                new,
                self.embedder,
                self.chunking,
                self.ingest_limits,
                batch_size=self.settings.embedding_batch_size * 2,
                progress=progress,
                ocr=self.page_reader(progress, new),
            )
            if (final / FILES).is_dir():  # uploads live in the folder being replaced
                os.replace(final / FILES, staging / FILES)
            trash = side_folder(self.settings.index_dir, name, "old")
            os.replace(final, trash)
            os.replace(staging, final)
            if milvus is not None:  # the collection follows the new catalog from scratch
                KnowledgeBase(final, choice, milvus).publish(replace=True)
        shutil.rmtree(trash, ignore_errors=True)
        self._retrievers.pop(name, None)
        return report

    # ------------------------------------------------------------------ managing

    def create_kb(self, name: str) -> KnowledgeBaseInfo:
        """An empty knowledge base, answerable (with nothing) at once."""
        name = validate_kb_name(name)
        if name in self.knowledge_bases():
            raise KnowledgeBaseError(
                f"知识库 {name!r} 已存在", f"knowledge base {name!r} already exists"
            )
        KnowledgeBase.open(self.settings, name)  # its catalog is made on opening
        return self.kb_info(name)

    def delete_kb(self, name: str) -> None:
        """Remove a knowledge base with its index, states and uploaded files. Moved
        aside under its write lock first, so an ingest into it waits and then fails
        cleanly instead of writing into a half-deleted folder."""
        knowledge_base = KnowledgeBase.open_existing(self.settings, self.kb_name(name))
        trash = side_folder(self.settings.index_dir, knowledge_base.name, "old")
        with knowledge_base.write_lock():
            if knowledge_base.milvus is not None:
                knowledge_base.milvus.drop(knowledge_base.name)
            os.replace(knowledge_base.directory, trash)
        shutil.rmtree(trash, ignore_errors=True)
        self._retrievers.pop(knowledge_base.name, None)
        with self._states_lock:
            self._states.pop(knowledge_base.name, None)

    def milvus_uri(self) -> str:
        """The Milvus knowledge bases go to with RAG_VECTOR_STORE=milvus."""
        store = milvus_store(self.settings.model_copy(update={"vector_store": "milvus"}))
        assert store is not None
        return store.uri

    def migrate_kb(self, name: str, to: str, progress: bool = False) -> int:
        """Copy a knowledge base's vectors, keywords and citation fields from its catalog
        into the other engine, embedding nothing; the chunks copied. Which engine
        answers stays RAG_VECTOR_STORE's choice."""
        engine = "milvus" if to == "milvus" else "faiss"
        target = KnowledgeBase.open_existing(
            self.settings.model_copy(update={"vector_store": engine}), self.require_kb(name)
        )
        bar = _copy_bar(progress, target.catalog.count_chunks())
        with target.write_lock():
            if engine == "milvus":
                return target.publish(bar, replace=True)
            target.save_snapshot()
            return target.catalog.count_chunks()

    def upload_folder(self, kb: str | None = None) -> UploadFolder:
        return UploadFolder(
            self.settings.kb_dir(self.require_kb(kb)) / FILES, self.settings.max_upload_bytes
        )

    def receive_uploads(
        self, files: Sequence[tuple[str, BinaryIO]], kb: str | None = None
    ) -> list[Received | FileResult]:
        """Copy uploaded files into the knowledge base's folder (fast); `index_uploads`
        then indexes them (slow)."""
        if len(files) > self.settings.max_upload_files:
            raise KnowledgeBaseError(
                f"一次最多上传 {self.settings.max_upload_files} 个文件",
                f"at most {self.settings.max_upload_files} files an upload (RAG_MAX_UPLOAD_FILES)",
            )
        return receive_all(files, self.upload_folder(kb))

    def index_uploads(
        self,
        received: Sequence[Received | FileResult],
        kb: str | None = None,
        notify: Callable[[FileResult], None] = lambda _: None,
    ) -> list[FileResult]:
        """Index received files one at a time, telling `notify` how each goes ("indexing"
        with its chunks embedded so far, then its result); one upload at a time per
        knowledge base (a second waits)."""
        name = self.require_kb(kb)
        folder = self.upload_folder(name)
        catalog = KnowledgeBase.open_existing(self.settings, name).catalog
        with self._upload_lock(name):
            return index_received(
                received,
                folder,
                catalog,
                lambda path, embedded: self.ingest([path], name, progress=False, embedded=embedded),
                notify,
            )

    def _upload_lock(self, kb: str) -> threading.Lock:
        with self._states_lock:
            return self._upload_locks.setdefault(kb, threading.Lock())

    def delete_document(self, doc_id: int, kb: str | None = None) -> DocumentInfo:
        """Remove a document from the index, and its file when it was uploaded."""
        name = self.kb_name(kb)
        knowledge_base = KnowledgeBase.open_existing(self.settings, name)
        doc = knowledge_base.catalog.document(doc_id)
        if doc is None:
            raise KnowledgeBaseError(
                f"知识库 {name!r} 里没有编号为 {doc_id} 的文档",
                f"knowledge base {name!r} has no document {doc_id}",
            )
        self.remove(Path(doc.path), name)
        folder = self.upload_folder(name)
        if folder.holds(Path(doc.path)):
            folder.delete(Path(doc.path))
        return doc

    def reindex(self, kb: str | None = None, progress: bool = True) -> IngestReport:
        """Read every document again from its file and swap the new index in (the old
        one answers meanwhile). Refused while any document's file is gone: re-indexing
        would lose it."""
        name = self.require_kb(kb)
        docs = KnowledgeBase.open_existing(self.settings, name).catalog.documents()
        gone = [d.path for d in docs if not Path(d.path).is_file()]
        if gone:
            raise KnowledgeBaseError(
                f"这些文档的原文件已不在，重建索引会丢失它们：{', '.join(gone[:5])}；"
                "请先恢复文件或删除这些文档",
                f"the files of these documents are gone, and re-indexing would lose them:"
                f" {', '.join(gone[:5])}; restore them or delete the documents first",
            )
        return self.ingest([Path(d.path) for d in docs], name, rebuild=True, progress=progress)

    def remove(self, path: Path, kb: str | None = None) -> bool:
        name = self.kb_name(kb)
        self._retrievers.pop(name, None)
        knowledge_base = KnowledgeBase.open_existing(self.settings, name)
        removed = remove(path, knowledge_base)
        self.prune_passage_states(knowledge_base)
        return removed

    # ------------------------------------------------------------------ search

    def retriever(self, kb: str | None = None) -> HybridRetriever:
        name = self.kb_name(kb)
        if name not in self._retrievers:
            knowledge_base = KnowledgeBase.open_existing(self.settings, name)
            weights = FusionWeights.from_settings(self.settings)
            translate = self.translate_question if self.settings.translate_questions else None
            self._retrievers[name] = HybridRetriever(
                knowledge_base, self.embedder, weights, translate
            )
        return self._retrievers[name]

    def translate_question(self, question: str, language: str) -> str:
        """The question in another language, by the language model; remembered, so the
        search and the answer that follows it translate once."""
        key = (question, language)
        if key not in self._translations:
            translated = translate_question(question, language, self.llm, self.prompts.translate)
            if len(self._translations) >= 256:
                self._translations.pop(next(iter(self._translations)))
            self._translations[key] = translated
        return self._translations[key]

    def search(self, query: str, k: int | None = None, kb: str | None = None) -> list[SearchHit]:
        return self.retriever(kb).search(query, k or self.settings.top_k)

    def source_passage(
        self,
        chunk_id: int,
        start: int | None = None,
        end: int | None = None,
        context_chars: int = 800,
        kb: str | None = None,
    ) -> SourcePassage | None:
        """A cited span and the text around it, looked up by chunk id only (never a
        path, so nothing outside the knowledge base is readable). A span that does
        not lie inside its chunk falls back to the whole chunk."""
        found = self._cited(chunk_id, start, end, kb)
        if found is None:
            return None
        row, text, lo, hi = found
        return SourcePassage(
            self.kb_name(kb),
            row.source,
            row.section,
            lo,
            hi,
            text[max(0, lo - context_chars) : lo],
            text[lo:hi],
            text[hi : hi + context_chars],
            len(text),
            title=row.title,
            page=row.page_at(lo),
            ocr=row.read_by_ocr(lo),
        )

    def _cited(
        self, chunk_id: int, start: int | None, end: int | None, kb: str | None
    ) -> tuple[ChunkRow, str, int, int] | None:
        """A chunk, its document's text and the cited span in it (the whole chunk when
        the span asked for does not lie inside it)."""
        knowledge_base = KnowledgeBase.open_existing(self.settings, self.kb_name(kb))
        found = knowledge_base.catalog.chunk_document(chunk_id)
        if found is None:
            return None
        row, text = found
        lo = start if start is not None and row.start <= start < row.end else row.start
        hi = end if end is not None and lo < end <= row.end else row.end
        return row, text, lo, hi

    def page_image(
        self,
        chunk_id: int,
        start: int | None = None,
        end: int | None = None,
        kb: str | None = None,
    ) -> bytes | None:
        """A PNG of the PDF page a cited span starts on, the span highlighted; None when
        the document has no pages or its file is no longer where it was indexed from."""
        from rag.ingest.loaders.pdf import render_page

        found = self._cited(chunk_id, start, end, kb)
        if found is None:
            return None
        row, text, lo, hi = found
        page, path = row.page_at(lo), Path(row.path)
        if page is None or not path.is_file():
            return None
        return render_page(path, page, text[lo:hi])

    # ------------------------------------------------------------------ answers

    @property
    def llm(self) -> ChatModel:
        if self._llm is None:
            from rag.models.llm import chat_model_from_settings

            started = time.perf_counter()
            print(
                f"Loading the language model ({self.settings.llm_backend})...",
                file=sys.stderr,
                flush=True,
            )
            self._llm = chat_model_from_settings(self.settings)
            print(f"  ready in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        return self._llm

    @cached_property
    def prompts(self) -> Prompts:
        """Read once: the templates in prompts/ (restart the server after editing them)."""
        return Prompts.load(self.settings.prompts_dir)

    def answer_pipeline(self, kb: str | None = None, calibrated: bool = True) -> AnswerPipeline:
        """The pipeline for a knowledge base, with its own refusal threshold once it has
        calibrated itself (`rag kb calibrate`), else the default."""
        retriever = self.retriever(kb)
        settings = AnswerSettings.from_settings(self.settings)
        use = calibrated and self.settings.calibrate_refusal
        calibration = self.calibration(retriever.kb.name) if use else None
        if calibration is not None:
            settings = dataclasses.replace(settings, min_coverage=calibration.min_coverage)
        return AnswerPipeline(
            retriever, self.llm, self.prompts, settings, self.passage_states(retriever.kb)
        )

    def passage_states(self, kb: KnowledgeBase) -> PassageStates | None:
        """The knowledge base's passage states, when they are on and the model keeps them."""
        if not self.settings.passage_states or not isinstance(self.llm, PassageReader):
            return None
        return self._state_store(kb)

    def _state_store(self, kb: KnowledgeBase) -> PassageStates:
        """One store object per knowledge base, so that its count of bytes on disk
        stays true whoever adds or removes states (no model needed)."""
        with self._states_lock:
            states = self._states.get(kb.name)
            if states is None or states.folder != kb.directory / "passage_states":
                states = kb.passage_states(self.settings.passage_states_max_mb << 20)
                self._states[kb.name] = states
            return states

    def build_passage_states(
        self,
        kb: str | None = None,
        progress: bool = False,
        stop: threading.Event | None = None,
    ) -> tuple[int, int]:
        """Read every chunk of the knowledge base that has no passage state yet and
        store its state; drop the states of chunks it no longer holds. (read, chunks).
        Questions asked meanwhile wait for at most one passage's read."""
        knowledge_base = KnowledgeBase.open_existing(self.settings, self.kb_name(kb))
        pipeline = self.answer_pipeline(knowledge_base.name)
        if pipeline.states is None:
            return 0, 0
        removed = self.prune_passage_states(knowledge_base)
        rows = knowledge_base.catalog.all_chunk_rows()
        ids = list(rows)
        read, started = 0, time.perf_counter()
        for done in range(0, len(ids), 4):  # a few at a time: read in one batch
            if stop is not None and stop.is_set():
                break
            group = [(c, rows[c].text) for c in ids[done : done + 4] if c in rows]
            if n := pipeline.read_ahead(group):
                read += n
                time.sleep(0.01)  # let a waiting question take the model first
            if progress and ((done // 4) % 10 == 9 or done + 4 >= len(ids)):
                rate = read / max(time.perf_counter() - started, 1e-9)
                print(
                    f"  passage states of {knowledge_base.name!r}: "
                    f"{min(done + 4, len(ids))}/{len(ids)} "
                    f"({read} read, {rate:.1f}/s, {removed} removed)",
                    file=sys.stderr,
                    flush=True,
                )
        return read, len(ids)

    def prune_passage_states(self, kb: KnowledgeBase) -> int:
        """Remove the passage states of chunks the knowledge base no longer holds (no
        model needed: any states on disk, whether or not they are on now)."""
        states = self._state_store(kb)
        if not states.folder.is_dir():
            return 0
        return states.keep_only(kb.catalog.chunk_ids())

    def stream(
        self,
        question: str,
        history: Sequence[ChatMessage] = (),
        kb: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        """The answer as it is made: Token and Replace events, then Done. Setting
        `cancel` stops it (Cancelled is raised)."""
        return self.answer_pipeline(kb).stream(question, history, cancel)

    def ask(
        self, question: str, history: Sequence[ChatMessage] = (), kb: str | None = None
    ) -> Answer:
        return self.answer_pipeline(kb).answer(question, history)

    # ------------------------------------------------------------------ suggestions

    def make_suggestions(
        self, kb: str | None = None, count: int = 3, progress: bool = True
    ) -> list[str]:
        """Write questions from the knowledge base's own passages, keep those it answers
        citing their passage, and store them with it (rag/answer/suggestions.py)."""
        from rag.answer import suggestions

        knowledge_base = KnowledgeBase.open_existing(self.settings, self.kb_name(kb))
        generation = knowledge_base.catalog.generation()
        rows = list(knowledge_base.catalog.all_chunk_rows().values())
        pipeline = self.answer_pipeline(knowledge_base.name)
        made = suggestions.make_suggestions(
            rows, self.llm, self.prompts.question, pipeline.answer, count, progress=progress
        )
        knowledge_base.catalog.set_meta(suggestions.META_KEY, suggestions.to_json(made, generation))
        return [s.question for s in made]

    def suggested_questions(self, kb: str | None = None) -> list[str]:
        """The stored suggestions whose passages are still in the knowledge base."""
        from rag.answer import suggestions

        try:
            catalog = KnowledgeBase.open_existing(self.settings, self.kb_name(kb)).catalog
        except KnowledgeBaseError:
            return []
        _, made = suggestions.from_json(catalog.get_meta(suggestions.META_KEY))
        alive = catalog.chunk_rows([s.chunk_id for s in made])
        return [s.question for s in made if s.chunk_id in alive]

    def suggestions_outdated(self, kb: str | None = None) -> bool:
        """True when the knowledge base changed since its suggestions were made."""
        from rag.answer import suggestions

        catalog = KnowledgeBase.open_existing(self.settings, self.kb_name(kb)).catalog
        made_for, _ = suggestions.from_json(catalog.get_meta(suggestions.META_KEY))
        return made_for != catalog.generation()

    def check_kb(
        self, kb: str | None = None, count: int = 30, progress: bool = True
    ) -> CheckReport:
        """How well the knowledge base's own questions find their passages
        (rag/evaluation/kb_check.py); the questions are kept until it changes."""
        from rag.evaluation import kb_check

        name = self.kb_name(kb)
        questions = self._written_questions(name, count, progress)
        return kb_check.check(questions, lambda q: self.search(q, kb_check.TOP, name))

    def _written_questions(self, kb: str, count: int, progress: bool) -> list[CheckQuestion]:
        """Questions the model wrote from `count` of the knowledge base's passages; kept
        with the knowledge base until it changes."""
        from rag.evaluation import kb_check

        knowledge_base = KnowledgeBase.open_existing(self.settings, kb)
        catalog = knowledge_base.catalog
        generation = catalog.generation()
        questions = kb_check.from_json(catalog.get_meta(kb_check.META_KEY), generation, count)
        if questions is None:
            rows = list(catalog.all_chunk_rows().values())
            questions = kb_check.write_questions(
                rows, self.llm, self.prompts.question, count, progress
            )
            catalog.set_meta(kb_check.META_KEY, kb_check.to_json(questions, generation, count))
        return questions[:count]

    # ------------------------------------------------------------------ calibration

    def calibrate_kb(
        self, kb: str | None = None, count: int = 30, progress: bool = True
    ) -> Calibration:
        """Fit the knowledge base's refusal threshold on questions written from its own
        passages (rag/evaluation/calibration.py) and keep it with the knowledge base."""
        from rag.evaluation import calibration

        name = self.kb_name(kb)
        questions = self._written_questions(name, count, progress)
        pipeline = self.answer_pipeline(name, calibrated=False)
        fitted = calibration.calibrate(
            [q.question for q in questions],
            pipeline.evidence_for,
            self.settings.refusal_min_coverage,
            sorted(pipeline.retriever.kb.catalog.chunk_ids()),
            progress,
        )
        pipeline.retriever.kb.catalog.set_meta(calibration.META_KEY, fitted.to_json())
        return fitted

    def calibration(self, kb: str | None = None) -> Calibration | None:
        """The knowledge base's own calibration, unless it changed a lot since."""
        from rag.evaluation.calibration import META_KEY, Calibration

        catalog = self.retriever(kb).kb.catalog
        text = catalog.get_meta(META_KEY)
        # read on every answer while calibration is on: count the chunks only when the
        # knowledge base or its calibration changed since the last answer
        key = (catalog.generation(), text or "")
        cached = self._calibrations.get(catalog.path)
        if cached is None or cached[0] != key:
            stored = Calibration.from_json(text)
            if stored is not None and stored.outdated(sorted(catalog.chunk_ids())):
                stored = None
            cached = (key, stored)
            self._calibrations[catalog.path] = cached
        return cached[1]

    def answer_fn(self, kb: str | None = None) -> Callable[[str], dict[str, Any]]:
        """question -> the JSON of `rag ask --json`, for the evaluation."""
        pipeline = self.answer_pipeline(kb)
        return lambda question: pipeline.answer(question).to_json()


def _copy_bar(progress: bool, total: int) -> Callable[[int, int], None] | None:
    """A progress bar for a copy of `total` chunks, told (done, to do)."""
    if not progress:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="Copying")

    def tell(done: int, todo: int) -> None:
        bar.total = todo
        bar.n = done
        bar.refresh()
        if done >= todo:
            bar.close()

    return tell
