"""Write small real PDFs for tests (pypdf reads what a PDF writer would produce)."""

from __future__ import annotations

from pathlib import Path


def write_text_pdf(path: Path, lines: list[str]) -> None:
    """A one-page PDF with a Helvetica text layer (ASCII text)."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td"]
    for line in lines:
        ops.append(f"({line}) Tj")
        ops.append("0 -16 Td")
    ops.append("ET")
    _write(path, "\n".join(ops).encode("latin-1"))


def write_blank_pdf(path: Path) -> None:
    """A PDF whose page draws a rectangle but has no text (like a scan)."""
    _write(path, b"0 0 1 rg 72 72 200 200 re f")


def write_deeply_nested_pdf(path: Path, depth: int = 5000) -> None:
    """A PDF whose page content holds an array nested `depth` levels: a parser that
    recurses runs out of stack."""
    _write(path, b"BT /F1 12 Tf 72 720 Td " + b"[" * depth + b"]" * depth + b" TJ ET")


def write_corrupt_stream_pdf(path: Path) -> None:
    """A PDF whose page content claims to be Flate-compressed and is not."""
    _write(path, b"\x78\x9c not deflate data at all", stream_extra=b" /Filter /FlateDecode")


def _write(
    path: Path, content: bytes, *, page_extra: bytes = b"", stream_extra: bytes = b""
) -> None:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >>" + page_extra + b" >>",
        b"<< /Length %d" % len(content)
        + stream_extra
        + b" >>\nstream\n"
        + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
