"""Spreadsheets, CSV and slide decks: rows as records that name their columns, sheets
and slides as sections, slides as pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import LoaderError, load_document
from rag.types import LoadedDocument


def chunks_of(doc: LoadedDocument) -> list[tuple[str, str]]:
    """(section, text) of each chunk."""
    chunks = chunk_document(
        doc.text, 300, 80, title=doc.title, headings=doc.headings, structured=doc.structured
    )
    return [(c.section, doc.text[c.start : c.end]) for c in chunks]


def test_xlsx_rows_become_records_under_their_sheet(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    targets = book.active
    targets.title = "发展目标"
    targets.append(["主要指标", "2020年完成", "2025年目标", "指标属性"])
    targets.append(["高新技术企业数(家)", 1214, 2500.0, "预期性"])
    targets.append(["研发投入强度(%)", 6.1, None, "预期性"])
    targets.append([None, None, None, None])  # an empty row between
    projects = book.create_sheet("重点项目")
    projects.append(["项目", "开工日期", "投资(亿元)"])
    projects.append(["地铁7号线", dt.date(2024, 3, 1), "=40+2"])  # a formula never computed
    path = tmp_path / "plan.xlsx"
    book.save(path)

    doc = load_document(path)
    assert doc.loader == "xlsx" and doc.structured
    assert [(h.level, h.title) for h in doc.headings] == [(1, "发展目标"), (1, "重点项目")]
    chunks = chunks_of(doc)
    assert (
        "发展目标",
        "发展目标\n\n"  # a sheet's name opens its text, as a declared heading does
        "主要指标：高新技术企业数(家)｜2020年完成：1214｜2025年目标：2500｜指标属性：预期性\n"
        "主要指标：研发投入强度(%)｜2020年完成：6.1｜指标属性：预期性",
    ) in chunks
    assert ("重点项目", "重点项目\n\n项目：地铁7号线｜开工日期：2024-03-01") in chunks


def test_csv_in_gbk_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "parks.csv"
    path.write_bytes("公园;区;面积(公顷)\n泉城公园;市中区;41\n大明湖;历下区;103.4\n".encode("gbk"))
    doc = load_document(path)
    assert doc.text.split("\n") == [
        "公园：泉城公园｜区：市中区｜面积(公顷)：41",
        "公园：大明湖｜区：历下区｜面积(公顷)：103.4",
    ]
    assert [section for section, _ in chunks_of(doc)] == [""]  # a record is no heading


def test_pptx_slides_are_sections_and_pages(tmp_path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "园区年度汇报"
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "园区年度汇报"
    first.placeholders[1].text = "2026年12月"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "主要成绩"
    body = second.placeholders[1].text_frame
    body.text = "新增企业120家。"
    body.add_paragraph().text = "税收增长8%。"
    second.notes_slide.notes_text_frame.text = "强调税收增长来自制造业。"
    third = deck.slides.add_slide(deck.slide_layouts[5])
    third.shapes.title.text = "明年目标"
    table = third.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (r, c), value in {
        (0, 0): "指标",
        (0, 1): "目标",
        (1, 0): "新增企业",
        (1, 1): "150家",
    }.items():
        table.cell(r, c).text = value
    path = tmp_path / "report.pptx"
    deck.save(str(path))

    doc = load_document(path)
    assert doc.title == "园区年度汇报" and doc.loader == "pptx"
    assert [h.title for h in doc.headings] == ["园区年度汇报", "主要成绩", "明年目标"]
    sections = dict(chunks_of(doc))
    assert (
        sections["主要成绩"]
        == "主要成绩\n新增企业120家。\n税收增长8%。\n备注：强调税收增长来自制造业。"
    )
    assert sections["明年目标"] == "明年目标\n指标：新增企业｜目标：150家"
    assert doc.page_at(doc.text.index("税收增长8%")) == 2
    assert doc.page_at(doc.text.index("150家")) == 3


@pytest.mark.parametrize("name", ["broken.xlsx", "broken.pptx", "broken.odt"])
def test_damaged_office_files_say_so(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LoaderError, match="damaged"):
        load_document(path)


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" office:version="1.3">
<office:body><office:text>
<text:table-of-content><text:index-body><text:p>第一章 安装 ........ 1</text:p></text:index-body></text:table-of-content>
<text:h text:outline-level="1">第一章 安装</text:h>
<text:p>运行<text:span>安装程序</text:span>，按<text:a>提示</text:a>操作。<text:note><text:note-body><text:p>脚注不算正文。</text:p></text:note-body></text:note></text:p>
<text:list><text:list-item><text:p>第一步：下载。</text:p></text:list-item>
<text:list-item><text:p>第二步：<text:s text:c="2"/>解压。</text:p></text:list-item></text:list>
<text:section><text:h text:outline-level="2">系统要求</text:h>
<table:table><table:table-row><table:table-cell><text:p>项目</text:p></table:table-cell>
<table:table-cell><text:p>最低</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell><text:p>内存</text:p></table:table-cell>
<table:table-cell><text:p>4 GB</text:p></table:table-cell></table:table-row></table:table>
</text:section>
</office:text></office:body></office:document-content>"""

ODT_META = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>安装手册</dc:title>
</office:meta></office:document-meta>"""


def write_odt(path: Path, content: str = ODT_CONTENT) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as odt:
        odt.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        odt.writestr("content.xml", content)
        odt.writestr("meta.xml", ODT_META)


def test_odt_headings_lists_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "manual.odt"
    write_odt(path)
    doc = load_document(path)
    assert doc.title == "安装手册" and doc.loader == "odt"
    assert [(h.level, h.title) for h in doc.headings] == [(1, "第一章 安装"), (2, "系统要求")]
    sections = dict(chunks_of(doc))
    assert sections["第一章 安装"] == (
        "第一章 安装\n\n运行安装程序，按提示操作。\n\n第一步：下载。\n\n第二步： 解压。"
    )
    assert sections["第一章 安装 > 系统要求"] == "系统要求\n\n项目：内存｜最低：4 GB"
    assert "脚注" not in doc.text and "........" not in doc.text  # notes, the contents


def test_odt_with_an_entity_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        "<office:text><text:p>&b;</text:p></office:text></office:body></office:document-content>"
    )
    path = tmp_path / "bomb.odt"
    write_odt(path, bomb)
    try:
        doc = load_document(path)
    except LoaderError:
        return
    assert "aaaa" not in doc.text  # entities are never expanded
