"""Do passages that say where they are help retrieval? Each eval corpus is indexed three
times, its chunks' indexed text (embedded and keyword-searched) starting with the
document's title and section headings, with the headings only, or with nothing
(`RAG_CHUNK_LABELS`), and every answerable question is searched in each.

    python benchmarks/passage_labels.py [--set KB=CORPUS=DATASET ...]

Prints hit@5 and MRR per corpus and labelling, with the CPU. Builds its indexes in a
temporary folder (about a minute per labelling here); the knowledge bases in index/ are
not touched.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fusion_by_coverage import load_sets, measure  # the same measuring as the fusion benchmarks

from rag.evaluation.report import cpu_name
from rag.ingest.chunking import LABELS
from rag.ingest.run import FileIngest, IngestReport, Prepared
from rag.service import RagService
from rag.settings import Settings
from rag.types import Chunk

SETS = [
    "jinan=corpus/jinan=eval/jinan_qa.jsonl",
    "debfaq=eval/corpora/debian_faq_zh=eval/debian_faq_zh_qa.jsonl",
    "rustdoc=eval/corpora/rustdoc_book=eval/rustdoc_zh_qa.jsonl",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="KB=CORPUS=DATASET")
    args = parser.parse_args()
    specs = [spec.split("=", 2) for spec in args.sets or SETS]
    print(f"CPU: {cpu_name()}")
    shared = RagService()  # one embedder and language model for every labelling
    with tempfile.TemporaryDirectory() as tmp:
        for labels in LABELS:
            settings = Settings(index_dir=Path(tmp) / labels.replace("+", "-"), chunk_labels=labels)
            service = RagService(settings, embedder=shared.embedder, llm=shared.llm)
            for kb, corpus, _ in specs:
                service.ingest([Path(corpus)], kb=kb, progress=False)
            sets = load_sets(service, [f"{kb}={dataset}" for kb, _, dataset in specs])
            print(f"{labels:14} {measure(service, sets)}", flush=True)
        # the title for the keyword index only: the embedding reads headings and words
        settings = Settings(index_dir=Path(tmp) / "split")
        service = RagService(settings, embedder=shared.embedder, llm=shared.llm)
        with title_not_embedded():
            for kb, corpus, _ in specs:
                service.ingest([Path(corpus)], kb=kb, progress=False)
        sets = load_sets(service, [f"{kb}={dataset}" for kb, _, dataset in specs])
        print(f"{'title keywords':14} {measure(service, sets)}", flush=True)


@contextmanager
def title_not_embedded() -> Iterator[None]:
    """Ingest with each chunk embedded without its document's title line (still keyword-indexed)."""
    commit, embed = FileIngest.commit, FileIngest._embed
    title = [""]

    def commit_titled(self: FileIngest, prepared: Prepared, report: IngestReport) -> None:
        title[0] = prepared.document.title
        commit(self, prepared, report)

    def embed_untitled(self: FileIngest, chunks: list[Chunk], bar: Any) -> Any:
        head = title[0] + "\n"
        bare = [replace(c, context=c.context.removeprefix(head)) if title[0] else c for c in chunks]
        return embed(self, bare, bar)

    FileIngest.commit, FileIngest._embed = commit_titled, embed_untitled  # type: ignore[method-assign]
    try:
        yield
    finally:
        FileIngest.commit, FileIngest._embed = commit, embed  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
