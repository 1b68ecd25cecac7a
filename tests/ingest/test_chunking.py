from __future__ import annotations

import itertools
import re

import pytest

from rag.ingest.chunking import (
    Line,
    chunk_document,
    document_title,
    numbered_heading_level,
    parse_blocks,
    split_long,
    split_sentences,
)
from tests.conftest import BUNDLED_CORPUS, FIXTURES

PLAN = (FIXTURES / "corpus" / "plan.txt").read_text(encoding="utf-8")


def test_offsets_point_at_the_exact_text() -> None:
    for chunk in chunk_document(PLAN, size=60, overlap=20):
        span = PLAN[chunk.start : chunk.end]
        assert span.strip() == span and span
        # the context ends with the span's text (tables re-join cells, so compare cells)
        cells = [c for c in re.split(r"\s+", span) if c]
        assert all(cell in chunk.context for cell in cells)


def test_section_path_follows_numbered_headings() -> None:
    chunks = chunk_document(PLAN, size=200, overlap=0)
    by_text = {PLAN[c.start : c.end][:8]: c.section for c in chunks}
    assert by_text["数字经济核心产业"] == "二、重点任务 > (一)壮大数字经济"
    assert by_text["新能源汽车产量突"] == "二、重点任务 > (二)培育绿色产业"
    assert by_text["设立产业引导基金"] == "三、保障措施"


def test_numbered_sentences_are_text_not_headings_alone() -> None:
    """A file whose every line is a numbered sentence loses none of them (it indexed
    nothing when each line was taken as a heading)."""
    text = "\n\n".join(f"第{i}节：第{i}号仓库存放备用物资，编号W{i}。" for i in range(1, 40))
    chunks = chunk_document(text, size=300, overlap=80)
    covered = "".join(text[c.start : c.end] for c in chunks)
    assert all(f"编号W{i}。" in covered for i in range(1, 40))
    assert any(c.section.startswith("第5节") for c in chunks)


def test_heading_levels() -> None:
    assert numbered_heading_level("第四章 打造优势突出的现代产业新体系") == 1
    assert numbered_heading_level("第一节 发展基础") == 2
    assert numbered_heading_level("三、重点任务") == 1
    assert numbered_heading_level("(十二)全力推动有效投资") == 2
    assert numbered_heading_level("2.推动传统产业转型升级") == 3
    assert numbered_heading_level("2.5万亿元的投资") is None


def test_sentences_tile_the_paragraph_and_end_at_stops() -> None:
    text = "到2025年达到2.4万亿元。新开工545个项目!是否可行?继续推进;最后一句"
    pieces = split_sentences(Line(10, 10 + len(text), text))
    assert "".join(p.text for p in pieces) == text
    assert [p.text[-1] for p in pieces[:-1]] == ["。", "!", "?", ";"]
    assert pieces[0].start == 10 and pieces[-1].end == 10 + len(text)


def test_long_sentence_is_cut_between_words_never_inside_a_number() -> None:
    text = "济南市总投资12345.67亿元的重大项目" * 8  # no punctuation at all
    pieces = split_long(Line(0, len(text), text), size=50)
    assert "".join(p.text for p in pieces) == text
    assert all(len(p.text) <= 50 for p in pieces)
    for a, b in itertools.pairwise(pieces):
        assert not (a.text[-1].isdigit() and b.text[0] in "0123456789."), (a.text, b.text)


def test_chunks_respect_size_and_overlap() -> None:
    text = "\n\n".join(f"第{i}段的内容说明了第{i}项任务的具体目标和要求。" * 3 for i in range(30))
    chunks = chunk_document(text, size=120, overlap=40)
    assert len(chunks) > 5
    assert max(c.end - c.start for c in chunks) <= 120
    overlapping = sum(1 for a, b in itertools.pairwise(chunks) if b.start < a.end)
    assert overlapping >= len(chunks) // 2


def test_flattened_table_keeps_caption_and_header_in_every_piece() -> None:
    blocks = parse_blocks(PLAN)
    assert [b.kind for b in blocks].count("table") == 1
    table_chunks = [c for c in chunk_document(PLAN, size=70, overlap=10) if "表1" in c.section]
    assert len(table_chunks) >= 2
    for chunk in table_chunks:
        assert "指标 | 2023年 | 2026年" in chunk.context
    assert any("研发投入强度(%) | 2.8 | 3.5" in c.context for c in table_chunks)


def test_document_title_names_the_document() -> None:
    assert document_title(PLAN) == "泉城示范区发展三年行动计划(2024—2026年)"
    notice = "发布日期: 2021\n\n某区管委会关于印发某区第十四个五年规划纲要的通知\n\n正文。"
    assert document_title(notice) == "某区第十四个五年规划纲要"
    assert chunk_document(PLAN)[0].context.startswith("泉城示范区发展三年行动计划")


def test_bundled_table2_rows_stay_with_their_header() -> None:
    text = (BUNDLED_CORPUS / "004_c8c838cd66009828.txt").read_text(encoding="utf-8")
    pieces = [c for c in chunk_document(text) if "表2" in c.section]
    assert len(pieces) >= 3
    assert all("主要指标 | 2020年" in c.context for c in pieces)
    assert any("森林覆盖率(%) | 25.6 | 26.1" in c.context for c in pieces)


def test_labels_say_what_a_chunks_indexed_text_starts_with() -> None:
    title = "泉城示范区发展三年行动计划(2024—2026年)"
    by_labels = {
        labels: {PLAN[c.start : c.end][:8]: c for c in chunk_document(PLAN, 200, 0, labels=labels)}
        for labels in ("title+section", "section", "none")
    }
    for labels, chunks in by_labels.items():
        chunk = chunks["数字经济核心产业"]
        assert chunk.section == "二、重点任务 > (一)壮大数字经济"  # always recorded
        expected = {
            "title+section": f"{title}\n二、重点任务 > (一)壮大数字经济\n数字经济",
            "section": "二、重点任务 > (一)壮大数字经济\n数字经济",
            "none": "数字经济",
        }[labels]
        assert chunk.context.startswith(expected), labels
        table = next(c for c in chunks.values() if "表1" in c.section)
        assert "指标 | 2023年 | 2026年" in table.context  # a table's header is no label
        assert ("表1" in table.context) == (labels != "none")
    with pytest.raises(ValueError, match="chunk labels"):
        chunk_document(PLAN, labels="everything")
