"""Scans read by OCR, with the real engine (RapidOCR)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from rag.ingest.loaders import LoaderError, load_document
from rag.ingest.ocr import PageReader
from tests.ingest.loaders.scan_maker import SCAN_TEXT, scanned_page, write_scanned_pdf


def similarity(found: str, expected: str) -> float:
    return difflib.SequenceMatcher(None, "".join(found.split()), "".join(expected.split())).ratio()


def test_a_scanned_pdf_is_read_by_ocr_and_marked_so(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    write_scanned_pdf(path, pages=2)
    doc = load_document(path, PageReader(tmp_path / "cache"))
    assert doc.ocr_pages == (1, 2) and doc.pages[0] == 0
    first_page = doc.text[: doc.pages[1]]
    assert similarity(first_page, "".join(SCAN_TEXT)) >= 0.95, first_page
    assert doc.page_at(doc.text.rindex("9090")) == 2


def test_ocr_results_are_cached_by_content(tmp_path: Path) -> None:
    reader = PageReader(tmp_path / "cache")
    image = scanned_page()
    first = reader.read(image)
    assert len(list((tmp_path / "cache" / "ocr").glob("*.json"))) == 1
    reader._engine = object()  # a second read may not run the engine: it would fail
    assert reader.read(image) == first


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff"])
def test_images_of_pages(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"page{suffix}"
    scanned_page().convert("RGB").save(path)
    doc = load_document(path, PageReader(None))
    assert doc.loader == "image" and doc.ocr_pages == (1,)
    assert similarity(doc.text, "".join(SCAN_TEXT)) >= 0.95, doc.text


def test_with_ocr_off_scans_are_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    write_scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(LoaderError, match="RAG_OCR"):
        load_document(tmp_path / "scan.pdf")
    scanned_page().save(tmp_path / "page.png")
    with pytest.raises(LoaderError, match="RAG_OCR"):
        load_document(tmp_path / "page.png")
