"""Servers for the web tests: the real app on a real port, with a scripted model for the
plumbing and the bundled models for the end-to-end tests."""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from rag.interfaces.server.gate import AnswerGate
from rag.interfaces.server.pages import DEMO_SERVER
from rag.service import RagService
from rag.settings import PROJECT_ROOT, Settings
from tests.fakes.chat_model import FakeChatModel

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
# Cited by the fake model: a sentence of tests/fixtures/corpus/plan.txt, so it is supported
FAKE_ANSWER = "示范区新建5G基站6000个[1]。"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a thread of the test process, so tests can hand it any service."""

    def __init__(self, app: FastAPI, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service: RagService | None = None  # the one behind it, when a test needs it
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class StaticSite:
    """A plain web server for a folder: the 'intranet' on another origin."""

    def __init__(self, folder: Path, port: int | None = None):
        self.port = port or free_port()
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def fake_service(settings: Settings, reply: str = FAKE_ANSWER) -> RagService:
    from tests.fakes.embedder import HashingEmbedder

    service = RagService(settings, embedder=HashingEmbedder(), llm=FakeChatModel(reply))
    service.ingest(progress=False)
    return service


@pytest.fixture
def ingested(settings: Settings) -> RagService:
    """The fixture corpus indexed with the model-free embedder, answered by a script."""
    return fake_service(settings)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def wait_until(condition, timeout: float = 10.0, every: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def live(ingested: RagService) -> Iterator[LiveServer]:
    from rag.interfaces.server.app import create_app

    with LiveServer(create_app(ingested)) as server:
        yield server


def write_demo_page(folder: Path, server_url: str) -> Path:
    """The demo intranet page (ui/demo/index.html), pointed at a test server."""
    page = (PROJECT_ROOT / "ui" / "demo" / "index.html").read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(page.replace(DEMO_SERVER, server_url), "utf-8")
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Debian Chromium for the whole run."""
    from tests.interfaces.server.browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context
    context.close()


@pytest.fixture(scope="session")
def intranet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StaticSite, int]]:
    """The demo intranet page on an origin of its own, pointing at the real-model server."""
    server_port = free_port()
    folder = write_demo_page(tmp_path_factory.mktemp("intranet"), f"http://127.0.0.1:{server_port}")
    with StaticSite(folder) as site:
        yield site, server_port


@pytest.fixture(scope="session")
def real_live(
    answering_service: RagService, intranet: tuple[StaticSite, int]
) -> Iterator[LiveServer]:
    """`rag serve` as a user gets it: bundled corpus, bundled models, real port."""
    from rag.interfaces.server.app import create_app

    site, port = intranet
    settings = answering_service.settings.model_copy(
        update={"embed_origins": [f"http://127.0.0.1:{site.port}"]}
    )
    service = RagService(settings, embedder=answering_service.embedder, llm=answering_service.llm)
    with LiveServer(create_app(service), port=port) as server:
        server.service = service
        yield server


@contextmanager
def holding(gate: AnswerGate) -> Iterator[None]:
    """Take a place in the gate and wait to be admitted, as an answer would."""
    ticket = gate.join()
    try:
        for _ in ticket.wait():
            pass
        yield
    finally:
        ticket.leave()
