"""Spreadsheets (.xlsx) and CSV files: each row a record that names its columns.

A row read alone ("1214 2500 预期性") cannot say which number is which; as a record,
"主要指标：高新技术企业数(家)｜2020年完成：1214｜2025年目标：2500", it can. The first
row with text is taken as the header. Each sheet is a section under its name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.ingest.loaders.base import LoaderError, check_zip, locate_headings, read_bytes
from rag.ingest.loaders.text import decode_text
from rag.types import LoadedDocument

FIELD = "："  # between a column's name and the row's value
SEPARATOR = "｜"  # between fields


def load_xlsx(path: Path) -> LoadedDocument:
    import openpyxl

    data = read_bytes(path)
    check_zip(path, data)
    try:
        # read_only streams the rows; data_only gives a formula's last computed value
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise LoaderError(path, f"cannot read this .xlsx ({exc}); is it damaged?") from exc
    lines: list[str] = []
    sheets: list[tuple[int, str]] = []
    try:
        for sheet in book.worksheets:
            records = list(records_of(sheet.iter_rows(values_only=True)))
            if records:
                title = str(sheet.title).strip() or f"Sheet{len(sheets) + 1}"
                sheets.append((1, title))
                lines += [title, "", *records, ""]
    finally:
        book.close()
    return _document(path, lines, sheets, "xlsx", None)


def load_csv(path: Path) -> LoadedDocument:
    text, encoding = decode_text(path, read_bytes(path))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise LoaderError(path, f"cannot read this CSV ({exc})") from exc
    return _document(path, list(records_of(rows)), [], "csv", encoding)


def _document(
    path: Path, lines: list[str], headings: list[tuple[int, str]], loader: str, enc: str | None
) -> LoadedDocument:
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        raise LoaderError(path, "the table has no cells with text")
    return LoadedDocument(
        path=path,
        text=text,
        loader=loader,
        encoding=enc,
        headings=locate_headings(text, headings),
        structured=True,  # a record is never a heading
    )


def records_of(rows: Iterable[Sequence[Any]]) -> Iterable[str]:
    """One line a row: "column：value｜column：value", empty cells left out. The first
    row with text is the header; a column without a name is called by its letter."""
    header: list[str] | None = None
    records = 0
    for row in rows:
        cells = [cell_text(value) for value in row]
        if not any(cells):
            continue
        if header is None:
            header = cells
            continue
        names = header + [""] * (len(cells) - len(header))
        fields = [
            f"{name or column_letter(k)}{FIELD}{value}"
            for k, (name, value) in enumerate(zip(names, cells, strict=False))
            if value
        ]
        if fields:
            records += 1
            yield SEPARATOR.join(fields)
    if header is not None and records == 0:  # a header and nothing under it
        yield SEPARATOR.join(cell for cell in header if cell)


def cell_text(value: Any) -> str:
    """A cell as a reader sees it: 1214.0 is 1214, a date is 2025-01-31."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def column_letter(k: int) -> str:
    letters = ""
    k += 1
    while k:
        k, rest = divmod(k - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
