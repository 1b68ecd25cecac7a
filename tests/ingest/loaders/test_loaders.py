from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.loaders import LoaderError, load_document
from rag.ingest.loaders import base as loader_base
from tests.conftest import FIXTURES
from tests.ingest.loaders.pdf_maker import write_blank_pdf, write_text_pdf

TEXT = "济南市实际使用外资保持平稳增长,制造业外资占比达到15%以上。\n\n第二段。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_text_in_common_chinese_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"doc-{encoding}.txt"
    path.write_bytes(TEXT.encode(encoding))
    doc = load_document(path)
    assert doc.text == TEXT
    assert doc.loader == "text"


def test_crlf_and_trailing_blanks_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("第一行  \r\n第二行\r\n".encode())
    assert load_document(path).text == "第一行\n第二行"


def test_markdown_and_html(tmp_path: Path) -> None:
    md = load_document(FIXTURES / "corpus" / "notes.md")
    assert "每年引进高层次人才团队30个" in md.text
    html = load_document(FIXTURES / "corpus" / "page.html")
    assert "开工建设地铁7号线,全长42公里。" in html.text
    assert "alert" not in html.text and "color" not in html.text


def test_docx_paragraphs_and_table_cells(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("第一章 总体要求")
    document.add_paragraph("到2025年高新技术企业达到2500家。")
    table = document.add_table(rows=2, cols=2)
    for (r, c), value in {
        (0, 0): "指标",
        (0, 1): "目标",
        (1, 0): "研发强度",
        (1, 1): "6.5",
    }.items():
        table.cell(r, c).text = value
    path = tmp_path / "plan.docx"
    document.save(str(path))
    text = load_document(path).text
    assert "到2025年高新技术企业达到2500家。" in text
    assert text.index("第一章") < text.index("研发强度")
    assert "研发强度\n\n6.5" in text  # one cell a line, as the flattened tables


def test_docx_title_and_headings_come_from_its_properties_and_styles(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "园区管理办法"
    document.add_heading("第一章 总则", level=1)
    document.add_paragraph("本办法适用于园区内的全部企业。")
    document.add_heading("入驻条件", level=2)  # no number: only its style says heading
    document.add_paragraph("企业须在园区注册。")
    path = tmp_path / "rules.docx"
    document.save(str(path))
    doc = load_document(path)
    assert doc.title == "园区管理办法"
    assert [(h.level, h.title) for h in doc.headings] == [(1, "第一章 总则"), (2, "入驻条件")]
    assert all(doc.text[h.start :].startswith(h.title) for h in doc.headings)


def test_pdf_with_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    write_text_pdf(path, ["Jinan plan 2025", "Foreign investment share 15%"])
    doc = load_document(path)
    assert "Foreign investment share 15%" in doc.text
    assert doc.loader == "pdf"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("binary.txt", bytes(range(256)) * 40, "binary"),
        ("corrupt.pdf", b"%PDF-1.4\n garbage that is not a pdf", "damaged"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip", "damaged"),
        ("image.bmp", b"BM not an image we read", "unsupported file type .bmp"),
        ("image.png", b"\x89PNG\r\n\x1a\n", "OCR is off"),
    ],
)
def test_bad_files_fail_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoaderError) as err:
        load_document(path)
    assert reason in err.value.reason
    assert name in str(err.value)


def test_scanned_pdf_says_to_run_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    write_blank_pdf(path)
    with pytest.raises(LoaderError, match="no text layer"):
        load_document(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="no such file"):
        load_document(tmp_path / "nope.txt")


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:  # sparse: 51 MB that takes no disk
        fh.truncate(51 * 1024 * 1024)
    with pytest.raises(LoaderError, match="over the 50 MB limit"):
        load_document(path)


def test_size_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader_base, "MAX_FILE_BYTES", 100)
    path = tmp_path / "small.txt"
    path.write_text("字" * 100, encoding="utf-8")
    with pytest.raises(LoaderError, match="limit"):
        load_document(path)


HELP_PAGE = """<!doctype html><html><head><title>帮助</title></head><body>
<nav><a href="/">首页</a> | <a href="/docs">文档目录</a></nav>
<div role="navigation">侧栏导航链接</div>
<main><h1>安装 <em>KiCad</em></h1>
<p>运行 <code>apt-get install kicad</code> 即可安装，详见<a href="/faq">常见问题</a>。
安装后<strong>重启</strong>电脑。</p>
<p>It supports up to <b>32</b> copper layers, and <span class="x">unlimited</span> zones.</p>
<p>零&#8203;宽&#8203;字符不应留下。</p>
<pre>make
make install</pre>
<ul><li>第一项</li><li>第二项 <i>带强调</i></li></ul>
<h2>卸载</h2>
<p>短行</p>
<p>运行卸载命令即可。</p>
</main>
<footer>版权所有 © 2026 某公司</footer>
</body></html>"""


def test_html_keeps_inline_elements_in_their_sentence(tmp_path: Path) -> None:
    path = tmp_path / "help.html"
    path.write_text(HELP_PAGE, encoding="utf-8")
    text = load_document(path).text
    lines = text.split("\n")
    assert "运行 apt-get install kicad 即可安装，详见常见问题。安装后重启电脑。" in lines
    assert "It supports up to 32 copper layers, and unlimited zones." in lines
    assert "安装 KiCad" in lines  # the heading, whole, on its own line
    assert "零宽字符不应留下。" in lines
    assert "make\nmake install" in text  # pre kept as it is
    assert "第二项带强调" in lines  # no space left between two Chinese characters
    for chrome in ("首页", "文档目录", "侧栏导航链接", "版权所有"):
        assert chrome not in text, chrome


def test_html_title_and_headings_come_from_the_markup(tmp_path: Path) -> None:
    from rag.ingest.chunking import chunk_document

    path = tmp_path / "help.html"
    path.write_text(HELP_PAGE, encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "帮助"
    assert [(h.level, h.title) for h in doc.headings] == [(1, "安装 KiCad"), (2, "卸载")]
    assert all(doc.text[h.start :].startswith(h.title) for h in doc.headings)
    chunks = chunk_document(doc.text, 300, 80, title=doc.title, headings=doc.headings)
    # "短行" is a short line, not a heading: only the markup's headings make sections
    assert [c.section for c in chunks] == ["安装 KiCad", "安装 KiCad > 卸载"]
    assert "短行" in doc.text[chunks[1].start : chunks[1].end]


def test_every_sentence_of_an_html_page_lands_whole_in_a_chunk(tmp_path: Path) -> None:
    from rag.ingest.chunking import chunk_document

    path = tmp_path / "help.html"
    path.write_text(HELP_PAGE, encoding="utf-8")
    doc = load_document(path)
    chunks = chunk_document(doc.text, 300, 80)
    texts = [doc.text[c.start : c.end] for c in chunks]
    for sentence in ("运行 apt-get install kicad 即可安装，详见常见问题。", "安装后重启电脑。"):
        assert any(sentence in t for t in texts), sentence


MARKDOWN = """# 部署指南

运行 `make install` 安装，详见[常见问题](faq.md)。**务必**先备份。

配置说明
--------

| 参数 | 默认值 | 说明 |
|------|-------:|------|
| port | 8443 | 管理端口 |
| `workers` | 4 | 工作进程数 |

- 第一项
* 第二项

```bash
# 这是代码里的注释，不是标题
./start.sh --port 8443
```

## 常见问题

1. 端口被占用怎么办？
"""


def test_markdown_headings_tables_and_code(tmp_path: Path) -> None:
    from rag.ingest.chunking import chunk_document

    path = tmp_path / "guide.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "部署指南" and doc.structured
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "部署指南"),
        (2, "配置说明"),
        (2, "常见问题"),
    ]
    lines = doc.text.split("\n")
    assert "运行 make install 安装，详见常见问题。务必先备份。" in lines
    assert "参数：port｜默认值：8443｜说明：管理端口" in lines
    assert "参数：workers｜默认值：4｜说明：工作进程数" in lines
    assert "# 这是代码里的注释，不是标题\n./start.sh --port 8443" in doc.text
    assert "第一项" in lines and "1. 端口被占用怎么办？" in lines
    chunks = chunk_document(doc.text, 300, 80, headings=doc.headings, structured=True)
    sections = [c.section for c in chunks]
    assert sections == ["部署指南", "部署指南 > 配置说明", "部署指南 > 常见问题"]


def test_a_page_that_marks_its_main_content_is_read_from_there(tmp_path: Path) -> None:
    page = """<html><head><title>What is rustdoc?</title></head><body>
<div class="help"><h2>Keyboard shortcuts</h2><p>Press S to search</p></div>
<ul role="menu"><li><button>Coal</button></li><li><button>Navy</button></li></ul>
<div class="menu-bar"><h1>The rustdoc book</h1><button>Print</button></div>
<main><h1>What is rustdoc?</h1><p>The standard Rust distribution ships with rustdoc.</p></main>
</body></html>"""
    path = tmp_path / "book.html"
    path.write_text(page, encoding="utf-8")
    doc = load_document(path)
    assert doc.text == "What is rustdoc?\n\nThe standard Rust distribution ships with rustdoc."
    assert [h.title for h in doc.headings] == ["What is rustdoc?"]
