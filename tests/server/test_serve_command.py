"""`rag serve` as a user starts it: a subprocess that indexes the corpus, loads the
models and serves the chat, the API and the widget on a real port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag.settings import Settings
from tests.conftest import FIXTURES
from tests.server.conftest import free_port

pytestmark = pytest.mark.real_model


def test_rag_serve_indexes_the_corpus_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_CORPUS_DIR": str(FIXTURES / "corpus"),
        "RAG_CACHE_DIR": str(Settings().cache_dir),  # the models built by `rag models`
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "rag serve did not come up in 300 s"
            try:
                health = httpx.get(url + "/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health["knowledge_bases"] == ["jinan"]  # indexed on the way up
        hits = httpx.get(url + "/api/search", params={"q": "5G基站"}, timeout=60).json()["hits"]
        assert hits[0]["source"] == "plan.txt"
        assert httpx.get(url + "/", follow_redirects=True, timeout=30).status_code == 200
        assert "rag-widget-button" in httpx.get(url + "/widget.js", timeout=10).text
        assert httpx.get(url + "/demo", timeout=10).text.count(url) >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
