"""A PDF manual read as a reader sees it (see write_manual_pdf for what is in it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import load_document
from rag.service import RagService
from rag.types import LoadedDocument
from tests.ingest.loaders.pdf_maker import (
    GUIDE_HEADING,
    Manual,
    write_latex_guide_pdf,
    write_manual_pdf,
)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def manual(tmp_path: Path) -> tuple[Manual, LoadedDocument]:
    path = tmp_path / "manual.pdf"
    return write_manual_pdf(path), load_document(path)


def test_every_body_sentence_lands_whole_in_a_chunk_and_no_furniture_does(
    manual: tuple[Manual, LoadedDocument],
) -> None:
    facts, doc = manual
    chunks = chunk_document(doc.text, 120, 30, title=doc.title, headings=doc.headings)
    texts = [doc.text[c.start : c.end] for c in chunks]
    # wrapped lines joined: Chinese without a space, English with one, "config-/uration"
    # mended, the ligature "ﬁ" as "fi", a paragraph over a page break in one piece
    for sentence, _ in facts.sentences:
        assert any(sentence in t for t in texts), sentence
    for line in facts.code + facts.rows:
        assert line in doc.text, line  # code verbatim, its continuation mark joined
    everything = "\n".join(c.context for c in chunks)
    for furniture in facts.furniture:  # running header, footer, contents with leaders
        assert squeezed(furniture) not in squeezed(everything), furniture
    assert "...." not in doc.text and "/ 5" not in doc.text


def test_sections_come_from_the_outline_and_pages_from_the_file(
    manual: tuple[Manual, LoadedDocument],
) -> None:
    facts, doc = manual
    assert doc.title == facts.title  # from the metadata
    assert [(h.level, squeezed(h.title)) for h in doc.headings] == [
        (level, squeezed(title)) for level, title, _ in facts.headings
    ]
    for _level, title, page in facts.headings:
        heading = next(h for h in doc.headings if squeezed(h.title) == squeezed(title))
        assert doc.page_at(heading.start) == page, title
    for sentence, page in facts.sentences:  # page 1 is the contents, 6 a picture
        assert doc.page_at(doc.text.index(sentence)) == page, sentence
    chunks = chunk_document(doc.text, 120, 30, title=doc.title, headings=doc.headings)
    port = next(c for c in chunks if "默认端口已经被其他程序占用" in doc.text[c.start : c.end])
    assert squeezed(port.section) == squeezed("第2章 配置 > 2.1 端口设置")
    assert port.context.startswith(facts.title)


def test_search_hits_and_sources_carry_the_title_and_page(
    service: RagService, tmp_path: Path
) -> None:
    folder = tmp_path / "manuals"
    folder.mkdir()
    write_manual_pdf(folder / "manual.pdf")
    report = service.ingest([folder], progress=False)
    assert report.failed == [] and len(report.added) == 1
    hit = next(h for h in service.search("备份文件保留三十天", k=10) if "三十天" in h.text)
    assert hit.page == 4 and hit.title == "星河数据平台用户手册"
    assert hit.to_json()["page"] == 4 and "page_breaks" not in hit.to_json()
    source = service.source_passage(hit.chunk_id)
    assert source is not None and source.page == 4 and source.title == hit.title
    listed = service.documents()
    assert [d.title for d in listed] == ["星河数据平台用户手册"]


def test_a_latex_guide_reads_its_logo_once_keeps_its_title_page_and_drops_chapter_heads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "guide.pdf"
    guide = write_latex_guide_pdf(path)
    doc = load_document(path)
    text = doc.text
    for sentence, _ in guide.sentences:  # the logo's raised and lowered letters read once
        assert squeezed(sentence) in squeezed(text), sentence
    assert "LATAT" not in text and "TEX EX" not in text
    assert "路径12" not in squeezed(text)  # the footnote's mark is no part of the word
    for furniture in guide.furniture:  # contents entries and heads naming the chapter
        assert squeezed(furniture) not in squeezed(text), furniture
    assert "目录" not in text
    assert [h.title for h in doc.headings] == [GUIDE_HEADING]
