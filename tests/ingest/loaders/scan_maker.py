"""Scanned pages for the OCR tests: Chinese text rendered with a CJK font into an image,
a little rotated, blurred and noisy, as a scanner gives it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

SCAN_TEXT = [
    "星河数据平台每天凌晨两点自动备份全部数据，备份文件保留三十天。",
    "恢复数据时先停止服务，再运行恢复命令并指定备份文件的日期。",
    "管理端口默认是8443，数据端口默认是9090。",
]


def cjk_font() -> str:
    """A Chinese font file (Debian's fonts-noto-cjk, which .ci/run installs)."""
    out = subprocess.run(
        ["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not out or "CJK" not in out:
        raise RuntimeError("no CJK font: apt-get install fonts-noto-cjk (see .ci/run)")
    return out


def scanned_page(lines: list[str] = SCAN_TEXT, dpi: int = 150) -> Any:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    width, height = int(8.27 * dpi), int(11.69 * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(cjk_font(), int(12 / 72 * dpi))
    y = dpi
    for line in lines:
        draw.text((dpi, y), line, font=font, fill=0)
        y += int(24 / 72 * dpi)
    page = page.rotate(0.4, fillcolor=255).filter(ImageFilter.GaussianBlur(0.6))
    noise = np.random.default_rng(7).normal(0, 12, (height, width))
    return Image.fromarray(np.clip(np.asarray(page, np.int16) + noise, 0, 255).astype(np.uint8))


def write_scanned_pdf(path: Path, pages: int = 1) -> None:
    """A PDF of page images only: no text layer."""
    images = [scanned_page().convert("RGB") for _ in range(pages)]
    images[0].save(path, "PDF", resolution=150, save_all=True, append_images=images[1:])
