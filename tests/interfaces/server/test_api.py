"""The REST and OpenAI-compatible API, with a scripted model (plumbing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.interfaces.server.app import create_app
from rag.service import RagService
from rag.settings import Settings
from tests.interfaces.server.conftest import fake_service


@pytest.fixture
def client(ingested: RagService) -> TestClient:
    return TestClient(create_app(ingested, chat_ui=False))


def events(response: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_health_reports_the_queue(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["knowledge_bases"] == ["jinan"]
    assert body["queue"] == {"active": 0, "waiting": 0, "limit": 1}


def test_search_returns_hits_with_offsets(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "5G基站", "k": 3}).json()["hits"]
    assert len(hits) == 3
    assert "5G基站" in hits[0]["text"] and hits[0]["source"] == "plan.txt"


def test_ask_streams_tokens_then_the_citations(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "示范区新建多少个5G基站？"})
    assert response.headers["content-type"].startswith("application/x-ndjson")
    stream = events(response)
    kinds = [e["type"] for e in stream]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert kinds.count("token") > 1  # arrived in pieces
    done = stream[-1]
    # the passages come first, before the model has written a word
    assert kinds.index("reading") < kinds.index("token")
    reading = stream[kinds.index("reading")]["passages"]
    assert [p["n"] for p in reading] == list(range(1, len(reading) + 1))
    assert reading[0]["source"] and reading[0]["text"]
    assert {c["chunk_id"] for c in done["citations"]} <= {p["chunk_id"] for p in reading}
    assert "".join(e["text"] for e in stream if e["type"] == "token").strip() == done["answer"]
    assert done["refused"] is False
    [citation] = done["citations"]
    assert citation["source"] == "plan.txt" and "6000" in citation["text"]
    assert set(citation) >= {"n", "source", "section", "start", "end", "text", "chunk_id"}


def test_ask_passes_the_history_for_follow_ups(ingested: RagService) -> None:
    client = TestClient(create_app(ingested, chat_ui=False))
    history = [
        {"role": "user", "content": "示范区新建多少个5G基站？"},
        {"role": "assistant", "content": "6000个[1]。"},
    ]
    client.post("/api/ask", json={"question": "那算力中心呢？", "history": history})
    calls = ingested.llm.calls  # type: ignore[attr-defined]
    assert any("5G基站" in m.content for m in calls[0])  # the rewrite saw the history


def test_source_returns_the_span_and_its_surroundings(client: TestClient) -> None:
    done = events(client.post("/api/ask", json={"question": "示范区新建多少个5G基站？"}))[-1]
    c = done["citations"][0]
    body = client.get(
        "/api/source", params={"chunk": c["chunk_id"], "start": c["start"], "end": c["end"]}
    ).json()
    assert body["text"] == c["text"]
    assert body["before"].endswith("建设算力中心3个,") or body["before"]
    assert body["source"] == "plan.txt" and body["document_chars"] > len(body["text"])


def test_openai_completion_carries_citations(client: TestClient) -> None:
    body = client.post(
        "/v1/chat/completions",
        json={
            "model": "jinan-rag",
            "messages": [{"role": "user", "content": "示范区新建多少个5G基站？"}],
        },
    ).json()
    assert body["object"] == "chat.completion"
    assert "6000" in body["choices"][0]["message"]["content"]
    assert body["citations"][0]["source"] == "plan.txt"


def test_openai_stream_is_server_sent_events(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "rag:jinan",
            "stream": True,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "示范区新建多少个5G基站？"}]}
            ],
        },
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    data = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "6000" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


def test_models_lists_the_knowledge_bases(client: TestClient) -> None:
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids == ["jinan-rag", "rag:jinan"]


def test_gradio_chat_is_mounted_and_root_redirects(ingested: RagService) -> None:
    client = TestClient(create_app(ingested))
    assert client.get("/", follow_redirects=False).headers["location"] == "/chat/"
    assert client.get("/chat/").status_code == 200


def test_citations_and_sources_of_a_pdf_name_its_title_and_page(settings: Settings) -> None:
    from tests.ingest.loaders.pdf_maker import write_manual_pdf

    write_manual_pdf(settings.corpus_dir / "manual.pdf")
    reply = "平台每天凌晨两点自动备份全部数据，备份文件保留三十天[1]。"
    client = TestClient(create_app(fake_service(settings, reply), chat_ui=False))
    done = events(client.post("/api/ask", json={"question": "平台的备份文件保留多少天？"}))[-1]
    [citation] = done["citations"]
    assert citation["source"] == "manual.pdf" and "三十天" in citation["text"]
    assert citation["page"] == 4 and citation["title"] == "星河数据平台用户手册"
    source = client.get("/api/source", params={"chunk": citation["chunk_id"]}).json()
    assert source["page"] == 4 and source["title"] == "星河数据平台用户手册"
    hits = client.get("/api/search", params={"q": "端口被占用", "k": 3}).json()["hits"]
    assert any(h["source"] == "manual.pdf" and h["page"] == 3 for h in hits)
    image = client.get("/api/page", params={"chunk": citation["chunk_id"]})
    assert image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"
    (settings.corpus_dir / "manual.pdf").unlink()  # moved away after indexing: no page
    assert client.get("/api/page", params={"chunk": citation["chunk_id"]}).status_code == 404


def test_only_pdf_passages_have_a_page_image(client: TestClient) -> None:
    hit = client.get("/api/search", params={"q": "5G基站", "k": 1}).json()["hits"][0]
    response = client.get("/api/page", params={"chunk": hit["chunk_id"]})
    assert response.status_code == 404 and "不是 PDF" in response.json()["error"]


def test_a_scanned_page_is_searchable_and_its_source_says_ocr(settings: Settings) -> None:
    from tests.ingest.loaders.scan_maker import write_scanned_pdf

    write_scanned_pdf(settings.corpus_dir / "scan.pdf")
    client = TestClient(create_app(fake_service(settings), chat_ui=False))
    hits = client.get("/api/search", params={"q": "备份文件保留多少天", "k": 5}).json()["hits"]
    hit = next(h for h in hits if h["source"] == "scan.pdf")
    assert "三十天" in hit["text"] and hit["page"] == 1
    source = client.get("/api/source", params={"chunk": hit["chunk_id"]}).json()
    assert source["ocr"] is True
    plain = next(h for h in hits if h["source"] != "scan.pdf")
    assert client.get("/api/source", params={"chunk": plain["chunk_id"]}).json()["ocr"] is False


def test_suggestions_are_the_knowledge_bases_own(client: TestClient, ingested: RagService) -> None:
    from rag.answer.suggestions import Suggestion, to_json
    from rag.store.knowledge_base import KnowledgeBase

    assert client.get("/api/suggestions").json() == {"questions": []}
    kb = KnowledgeBase.open_existing(ingested.settings)
    made = [Suggestion("新建5G基站多少个？", kb.snapshot().chunk_ids[0])]
    kb.catalog.set_meta("suggested_questions", to_json(made, kb.catalog.generation()))
    assert client.get("/api/suggestions").json() == {"questions": ["新建5G基站多少个？"]}
    assert client.get("/api/suggestions", params={"kb": "../etc"}).json() == {"questions": []}


@pytest.mark.parametrize("withdrawn", [True, False])
def test_a_replaced_answer_on_the_wire(withdrawn: bool) -> None:
    import asyncio

    from rag.interfaces.server.answers import event_json
    from rag.interfaces.server.api import openai_chunks
    from rag.types import Answer, Done, Replace, Token

    final = "它运行测试[1]。" if not withdrawn else "资料中没有找到能回答这个问题的内容。"
    stream = [
        Token("它运行测试。"),
        Replace(final, withdrawn),
        Done(Answer("q", "q", final, [], withdrawn, [])),
    ]

    async def events():  # type: ignore[no-untyped-def]
        for event in stream:
            yield event

    async def collect() -> list[str]:
        return [chunk async for chunk in openai_chunks(events(), "rag:jinan")]

    assert event_json(stream[1]) == {"type": "replace", "text": final, "withdrawn": withdrawn}
    data = [
        c[6:] for c in asyncio.run(collect()) if c.startswith("data: ") and c != "data: [DONE]\n\n"
    ]
    text = "".join(json.loads(d)["choices"][0]["delta"].get("content", "") for d in data)
    if withdrawn:  # an OpenAI stream cannot take back what it sent: it says so
        assert text.startswith("它运行测试。") and "已撤回" in text and text.endswith(final)
    else:  # the same answer with its citations: they come in the last chunk's fields
        assert text == "它运行测试。"
