"""Upload to answerable: how long a 50-page PDF takes from the upload to the first
search that finds a sentence of its last pages (issue 12).

    python benchmarks/bench_upload.py [--pages 50] [--runs 3]

Writes a PDF of `--pages` A4 pages of Chinese prose (the bundled reports' text, with a
running header and page numbers, in reportlab's built-in CJK font), starts the server
in this process on a free port with the bundled embedding model already loaded (as a
running `rag serve` has it), and for each run: creates a new knowledge base over HTTP,
uploads the PDF to POST /api/kb/{kb}/documents (NDJSON), and times
- upload to indexed: from sending the request to the file's "added" line;
- upload to answerable: until GET /api/search finds a sentence of page pages-2 in its
  top 5.
Prints the medians, the chunks, the CPU and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.report import cpu_name
from rag.interfaces.server.app import create_app
from rag.service import RagService
from rag.settings import PROJECT_ROOT, Settings

FONT = "STSong-Light"  # reportlab's built-in CJK font: nothing to embed or download
LINE_CHARS = 38
LINES_PER_PAGE = 44


def prose_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted((PROJECT_ROOT / "corpus" / "jinan").glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8").splitlines():
            paragraph = paragraph.strip()
            for i in range(0, len(paragraph), LINE_CHARS):
                lines.append(paragraph[i : i + LINE_CHARS])
    return lines


def write_pdf(path: Path, pages: int) -> list[list[str]]:
    """The PDF, and each page's lines."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    lines = prose_lines()
    assert len(lines) >= pages * LINES_PER_PAGE, "not enough text for that many pages"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle("济南经济发展资料汇编")
    shown = []
    for page in range(pages):
        body = lines[page * LINES_PER_PAGE : (page + 1) * LINES_PER_PAGE]
        pdf.setFont(FONT, 9)
        pdf.drawString(72, 810, "济南经济发展资料汇编")
        pdf.drawString(290, 30, f"- {page + 1} -")
        pdf.setFont(FONT, 11)
        for n, line in enumerate(body):
            pdf.drawString(60, 780 - 16 * n, line)
        pdf.showPage()
        shown.append(body)
    pdf.save()
    return shown


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run(url: str, pdf: Path, kb: str, probe: str) -> tuple[float, float, int]:
    with httpx.Client(base_url=url, timeout=600) as client:
        client.post("/api/kb", json={"name": kb}).raise_for_status()
        started = time.perf_counter()
        indexed_s, chunks = -1.0, 0
        with client.stream(
            "POST",
            f"/api/kb/{kb}/documents",
            files=[("files", (pdf.name, pdf.read_bytes(), "application/pdf"))],
            headers={"Accept": "application/x-ndjson"},
        ) as response:
            for line in response.iter_lines():
                event = json.loads(line)
                if event.get("status") == "added":
                    indexed_s, chunks = time.perf_counter() - started, event["chunks"]
                elif event.get("status") in ("failed", "refused"):
                    raise SystemExit(f"the upload failed: {event}")
        while True:
            hits = client.get("/api/search", params={"q": probe, "k": 5, "kb": kb}).json()
            if any(probe[:12] in h["text"] for h in hits["hits"]):
                return indexed_s, time.perf_counter() - started, chunks
            if time.perf_counter() - started > 600:
                raise SystemExit("not findable after 600 s")
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = folder / "汇编.pdf"
        pages = write_pdf(pdf, args.pages)
        pdf_bytes = pdf.stat().st_size
        probe = max(pages[-2], key=len)  # a whole line of the page before the last
        settings = Settings(index_dir=folder / "index", suggest_questions=False)
        service = RagService(settings)
        service.embedder.embed_query("warm-up")  # a running server has its model loaded
        port = free_port()
        config = uvicorn.Config(
            create_app(service, chat_ui=False), host="127.0.0.1", port=port, log_level="warning"
        )
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        runs = [
            one_run(f"http://127.0.0.1:{port}", pdf, f"bench{n}", probe) for n in range(args.runs)
        ]
        server.should_exit = True
    indexed = statistics.median(r[0] for r in runs)
    answerable = statistics.median(r[1] for r in runs)
    print(f"CPU: {cpu_name()}")
    print(f"PDF: {args.pages} pages, {pdf_bytes:,} bytes")
    print(f"chunks: {runs[0][2]}")
    print(
        f"upload to indexed: median {indexed:.1f} s over {args.runs} runs {[round(r[0], 1) for r in runs]}"
    )
    print(f"upload to answerable (found by search): median {answerable:.1f} s")
    print(f"pages/s: {args.pages / indexed:.2f}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
