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
        ("image.png", b"\x89PNG\r\n\x1a\n", "unsupported file type .png"),
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
