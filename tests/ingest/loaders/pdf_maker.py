"""Write small real PDFs for tests (pypdf reads what a PDF writer would produce)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


# --------------------------------------------------------------------------- a manual

HEADER = "星河数据平台用户手册"
FOOTER = "第 {n} 页"
_FONT = "STSong-Light"  # reportlab's built-in CJK font: nothing to embed or download
_WIDTH = 380.0  # points of text per line: lines are wrapped to it, as a word processor does


@dataclass
class Manual:
    """What the manual says, for the tests to look for."""

    title: str
    headings: list[tuple[int, str, int]] = field(default_factory=list)  # level, title, page
    sentences: list[tuple[str, int]] = field(default_factory=list)  # each body sentence, page
    code: list[str] = field(default_factory=list)  # code lines as they should read
    rows: list[str] = field(default_factory=list)  # table rows as they should read
    furniture: list[str] = field(default_factory=list)  # text that is no content


# A page is a list of blocks: ("h1"|"h2", title), ("p", sentence), ("p-break", sentence:
# wrapped lines continue on the next page), ("code", lines), ("table", rows), ("figure",)
PAGES: list[list[tuple[Any, ...]]] = [
    [
        ("h1", "第1章 安装"),
        (
            "p",
            "星河数据平台支持在单台服务器上安装，也支持在由多台服务器组成的集群中部署，安装前请确认每台服务器的磁盘空间不少于二十吉字节。",
        ),
        (
            "p",
            "The installer verifies the operating system configuration and the available memory before it copies any program files to the target directory.",
        ),
        ("h2", "1.1 系统要求"),
        ("p", "服务器需要四个处理器核心和十六吉字节内存，操作系统为六十四位的Linux发行版。"),
        ("p", "The \ufb01le system must be ext4 or xfs."),
    ],
    [
        ("h1", "第2章 配置"),
        (
            "p",
            "配置文件位于安装目录下的conf文件夹中，修改任何一项配置以后都需要重新启动全部服务才能生效。",
        ),
        (
            "code",
            [
                "xinghe-admin restart --all --wait-for-cluster-ready \u2190-",
                "--timeout 300",
                "xinghe-admin status",
            ],
        ),
        ("h2", "2.1 端口设置"),
        (
            "table",
            [
                ["端口", "用途", "默认值"],
                ["管理端口", "网页控制台", "8443"],
                ["数据端口", "客户端连接", "9090"],
            ],
        ),
        (
            "p-break",
            "如果默认端口已经被其他程序占用，可以在配置文件中把它改为任意一个未被占用的端口，改完以后用状态命令确认新的端口已经开始监听，再通知所有客户端使用新的端口连接。",
        ),
    ],
    [
        ("h1", "第3章 备份与恢复"),
        ("p", "平台每天凌晨两点自动备份全部数据，备份文件保留三十天，过期的备份会被自动删除。"),
        ("p", "恢复数据时，先停止服务，再运行恢复命令并指定备份文件的日期。"),
    ],
    [("figure",)],  # a screenshot: no text besides the running header and footer
]


def write_manual_pdf(path: Path) -> Manual:
    """A five-page manual as a word processor exports it: a contents page with dot
    leaders, a running header and footer, an outline (bookmarks), wrapped lines (one
    English word hyphenated, a paragraph running over a page break), a ligature, a
    table, a code block with a continuation mark, and a page that is only a picture."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4)
    manual = Manual(title=HEADER)
    pdf.setTitle(manual.title)
    total = len(PAGES) + 1

    def furniture(n: int) -> None:
        pdf.setFont(_FONT, 9)
        header, footer = f"{HEADER}    {n} / {total}", FOOTER.format(n=n)
        pdf.drawString(72, height - 40, header)
        pdf.drawCentredString(width / 2, 30, footer)
        manual.furniture += [header, footer]

    furniture(1)
    pdf.setFont(_FONT, 16)
    pdf.drawString(72, height - 90, "目录")
    y = height - 120
    pdf.setFont(_FONT, 11)
    for n, page in enumerate(PAGES, start=2):
        for block in page:
            if block[0] in ("h1", "h2"):
                indent = 0 if block[0] == "h1" else 20
                entry = f"{block[1]} {'.' * (50 - indent // 3)} {n}"
                pdf.drawString(72 + indent, y, entry)
                manual.furniture.append(entry)
                y -= 18
    pdf.showPage()

    carried: list[str] = []  # lines of a paragraph that runs over onto this page
    for n, page in enumerate(PAGES, start=2):
        furniture(n)
        y = height - 90
        pdf.setFont(_FONT, 11)
        for line in carried:
            pdf.drawString(72, y, line)
            y -= 16
        carried = []
        for block in page:
            kind = block[0]
            if kind in ("h1", "h2"):
                size = 16 if kind == "h1" else 13
                pdf.setFont(_FONT, size)
                pdf.drawString(72, y, block[1])
                key = f"p{n}-{block[1]}"
                pdf.bookmarkPage(key, fit="XYZ", top=y + size)
                pdf.addOutlineEntry(block[1], key, level=0 if kind == "h1" else 1)
                manual.headings.append((1 if kind == "h1" else 2, block[1], n))
                y -= 28
            elif kind in ("p", "p-break"):
                pdf.setFont(_FONT, 11)
                lines = _wrap(block[1], _FONT, 11)
                if kind == "p-break":
                    lines, carried = lines[:2], lines[2:]
                for line in lines:
                    pdf.drawString(72, y, line)
                    y -= 16
                manual.sentences.append((block[1].replace("\ufb01", "fi"), n))
                y -= 10
            elif kind == "code":
                pdf.setFont("Courier", 10)
                for line in block[1]:
                    pdf.drawString(90, y, line)
                    y -= 13
                manual.code += [
                    "xinghe-admin restart --all --wait-for-cluster-ready --timeout 300",
                    "xinghe-admin status",
                ]
                y -= 10
            elif kind == "table":
                pdf.setFont(_FONT, 11)
                for row in block[1]:
                    for k, cell in enumerate(row):
                        pdf.drawString(72 + 140 * k, y, cell)
                    manual.rows.append(" | ".join(row))
                    y -= 18
                y -= 10
            elif kind == "figure":
                pdf.setFillGray(0.8)
                pdf.rect(72, 300, 450, 400, fill=1, stroke=0)
        pdf.showPage()
    pdf.save()
    return manual


def _wrap(text: str, font: str, size: float) -> list[str]:
    """Lines of at most _WIDTH points: Chinese breaks between any two characters, English
    between words, and a word too long for the rest of a line is hyphenated."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    tokens = re.findall(r"[A-Za-z0-9.\-]+ ?|.", text)
    lines, line = [], ""
    for token in tokens:
        if stringWidth(line + token.rstrip(), font, size) <= _WIDTH:
            line += token
            continue
        if len(token) > 8 and token[0].isalpha():  # hyphenate what still fits
            cut = len(token) - 1
            while cut > 2 and stringWidth(line + token[:cut] + "-", font, size) > _WIDTH:
                cut -= 1
            if cut > 2:
                lines.append(line + token[:cut] + "-")
                line = token[cut:]
                continue
        lines.append(line.rstrip())
        line = token
    lines.append(line.rstrip())
    return lines


# --------------------------------------------------------------------------- a LaTeX-made guide

GUIDE_LOGO_SENTENCE = "本指南介绍如何用 LATEX 排版中文文档，并说明常见问题的处理方法。"
GUIDE_TITLE_SENTENCE = "版本号为 2.1，一共收录有 42 个问题。"
GUIDE_HEADING = "1.1 安装 TEX Live"
# a footnote mark (small, raised) after 路径 is left out; the power in "m2" stays
GUIDE_NOTED_SENTENCE = "先建立工作路径再安装，机房面积不小于 20 m2 即可。"


def write_latex_guide_pdf(path: Path) -> Manual:
    """A guide as LaTeX typesets one: a title page whose lower half is the contents, the
    LaTeX logo drawn with a raised small A and a lowered E, and running heads that name
    the chapter beside the page number ("1 安装 | 3"), so no head repeats on half the
    pages; its outline entry "安装 TeX Live" heads the line "1.1 安装 TEX Live"."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    width, height = A4
    pdf = canvas.Canvas(str(path), pagesize=A4)
    guide = Manual(title="中文排版指南")
    pdf.setFont(_FONT, 16)
    pdf.drawString(72, height - 90, guide.title)
    pdf.setFont(_FONT, 11)
    pdf.drawString(72, height - 130, GUIDE_TITLE_SENTENCE)
    guide.sentences.append((GUIDE_TITLE_SENTENCE, 1))
    pdf.drawString(72, height - 180, "目录")
    chapters = ["1 安装", "2 配置", "3 排错"]
    for k, chapter in enumerate(chapters):
        entry = f"{chapter} {'.' * 40} {2 + 2 * k}"
        pdf.drawString(72, height - 210 - 18 * k, entry)
        guide.furniture.append(entry)
    pdf.showPage()
    for k, chapter in enumerate(chapters):
        for half in range(2):
            n = 2 + 2 * k + half
            pdf.setFont(_FONT, 9)
            head = f"{chapter}"
            pdf.drawString(72, height - 40, head)
            pdf.drawRightString(width - 72, height - 40, str(n))
            guide.furniture.append(f"{head} | {n}")
            if n == 2:  # the outline says "TeX", the page prints the logo in capitals
                pdf.setFont(_FONT, 13)
                pdf.drawString(72, height - 66, GUIDE_HEADING)
                pdf.bookmarkPage("install", fit="XYZ", top=height - 60)
                pdf.addOutlineEntry("安装 TeX Live", "install", level=0)
            text = pdf.beginText(72, height - 90)
            text.setFont(_FONT, 11)
            if n == 2:
                _latex_sentence(text)
                guide.sentences.append((GUIDE_LOGO_SENTENCE, n))
            elif n == 3:
                _noted_sentence(text)
                guide.sentences.append((GUIDE_NOTED_SENTENCE, n))
            else:
                sentence = f"第{n}页讲{chapter[2:]}的第{half + 1}部分，内容与其他页面不同。"
                text.textOut(sentence)
                guide.sentences.append((sentence, n))
            pdf.drawText(text)
            pdf.showPage()
    pdf.save()
    return guide


def _latex_sentence(text: Any) -> None:
    before, after = GUIDE_LOGO_SENTENCE.split("LATEX")
    text.textOut(before + "L")
    text.setFont("Helvetica", 8)
    text.setRise(2)
    text.textOut("A")
    text.setFont("Helvetica", 11)
    text.setRise(0)
    text.textOut("T")
    text.setRise(-2.5)
    text.textOut("E")
    text.setRise(0)
    text.textOut("X")
    text.setFont(_FONT, 11)
    text.textOut(after)


def _noted_sentence(text: Any) -> None:
    head, tail = GUIDE_NOTED_SENTENCE.split("路径")
    text.textOut(head + "路径")
    text.setFont(_FONT, 7)
    text.setRise(4)
    text.textOut("12")
    text.setFont(_FONT, 11)
    text.setRise(0)
    before, after = tail.split("m2")
    text.textOut(before + "m")
    text.setFont("Helvetica", 7)
    text.setRise(4)
    text.textOut("2")
    text.setFont(_FONT, 11)
    text.setRise(0)
    text.textOut(after)
