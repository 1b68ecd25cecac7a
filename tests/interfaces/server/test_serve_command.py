"""`rag serve` as a user starts it: a subprocess that indexes the corpus, loads the
models and serves the chat, the API and the widget on a real port."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag.settings import Settings
from tests.conftest import FIXTURES
from tests.interfaces.server.conftest import free_port

pytestmark = pytest.mark.real_model


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_CORPUS_DIR": str(FIXTURES / "corpus"),
        "RAG_CACHE_DIR": str(Settings().cache_dir),  # the models built by `rag models`
        "RAG_SUGGEST_QUESTIONS": "false",  # the language model stays free for the test
        "RAG_CALIBRATE_REFUSAL": "false",
        **extra,
    }


def start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str, dict[str, Any]]:
    """`rag serve` on a free port, once its /health answers: the process, its URL and
    the health report."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.interfaces.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read() if proc.stdout else "rag serve exited")
        if time.monotonic() > deadline:
            proc.terminate()
            raise AssertionError("rag serve did not come up in 300 s")
        try:
            return proc, url, httpx.get(url + "/health", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.5)


def test_rag_serve_indexes_the_corpus_and_serves(tmp_path: Path) -> None:
    # what a rebuild killed mid-way leaves behind: removed at start, never listed
    stale = tmp_path / "index" / ".jinan.rebuild-999999999-1"
    stale.mkdir(parents=True)
    (stale / "catalog.sqlite3").write_bytes(b"")
    proc, url, health = start_serve(serve_env(tmp_path))
    try:
        assert health["knowledge_bases"] == ["jinan"]  # indexed on the way up
        assert not stale.exists()
        assert httpx.head(url + "/health", timeout=5).status_code == 200
        hits = httpx.get(url + "/api/search", params={"q": "5G基站"}, timeout=60).json()["hits"]
        assert hits[0]["source"] == "plan.txt"
        assert httpx.get(url + "/", follow_redirects=True, timeout=30).status_code == 200
        assert "rag-widget-button" in httpx.get(url + "/widget.js", timeout=10).text
        assert httpx.get(url + "/demo", timeout=10).text.count(url) >= 2
        stop_mid_answer(proc, url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def stop_mid_answer(proc: subprocess.Popen[str], url: str) -> None:
    """SIGTERM while one answer streams and two more wait: the server exits within 10 s,
    not when all three answers would have finished, and tells each client why."""
    seen = {"started": threading.Event(), "queued": threading.Event()}
    last: list[dict[str, Any]] = []

    def ask() -> None:
        body = {"question": "示范区新建多少个5G基站？"}
        event: dict[str, Any] = {}
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("POST", url + "/api/ask", json=body, timeout=120) as r,
        ):
            for line in r.iter_lines():
                event = json.loads(line)
                if event["type"] in seen:
                    seen[event["type"]].set()
        last.append(event)

    threading.Thread(target=ask, daemon=True).start()
    assert seen["started"].wait(120)
    for _ in range(2):
        threading.Thread(target=ask, daemon=True).start()
    assert seen["queued"].wait(30)
    time.sleep(1.0)  # into the prompt
    stopping = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert time.monotonic() - stopping < 10
    assert [e.get("code") for e in last] == ["stopping"] * 3, last


def test_rag_serve_with_passage_states_answers_at_once_and_builds_them_meanwhile(
    tmp_path: Path,
) -> None:
    env = serve_env(tmp_path, RAG_PASSAGE_STATES="true")
    proc, url, _ = start_serve(env)
    deadline = time.monotonic() + 300
    try:
        body = {"question": "示范区新建多少个5G基站？"}
        done = json.loads(
            httpx.post(url + "/api/ask", json=body, timeout=300).text.strip().splitlines()[-1]
        )
        assert done["refused"] is False, done
        assert "6000" in done["answer"]
        # the answer's passages were read alone and kept on the way; the background
        # build reads the rest, and `rag kb list` counts them
        while (ready := _states_ready(env)) < 3:
            assert time.monotonic() < deadline, ready
            time.sleep(2)
        assert len(list((tmp_path / "index" / "jinan" / "passage_states").glob("*.kv"))) >= 3
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _states_ready(env: dict[str, str]) -> int:
    listed = subprocess.run(
        [sys.executable, "-m", "rag.interfaces.cli", "kb", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"jinan\t.*\t(\d+) passage states", listed)
    assert match, listed
    return int(match.group(1))
