"""Managing knowledge bases over HTTP (/api/kb...), with the model-free embedder and a
scripted model: who may change what, names and files refused, per-file results, and
an upload racing questions."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.interfaces.server.app import create_app
from rag.service import RagService
from rag.settings import Settings
from tests.ingest.loaders.pdf_maker import write_text_pdf
from tests.interfaces.server.conftest import fake_service

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("10.1.2.3", 50000)


def client_for(service: RagService, at: tuple[str, int] = LOCAL) -> TestClient:
    return TestClient(create_app(service, chat_ui=False), client=at)


@pytest.fixture
def local(ingested: RagService) -> TestClient:
    return client_for(ingested)


def docx_bytes(*paragraphs: str, title: str = "") -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(tmp_path: Path, *lines: str) -> bytes:
    path = tmp_path / "made.pdf"
    write_text_pdf(path, list(lines))
    return path.read_bytes()


def upload(client: TestClient, kb: str, *files: tuple[str, bytes], **kw: Any) -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post(f"/api/kb/{kb}/documents", files=parts, **kw)


def kb_files(service: RagService, kb: str) -> list[str]:
    folder = service.settings.kb_dir(kb) / "files"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---------------------------------------------------------------- the whole round


def test_create_upload_list_delete_document_then_kb(local: TestClient, tmp_path: Path) -> None:
    assert local.post("/api/kb", json={"name": "team"}).status_code == 201
    assert "team" in [k["name"] for k in local.get("/api/kb").json()["knowledge_bases"]]
    assert local.post("/api/kb", json={"name": "team"}).status_code == 409

    memo = docx_bytes("The boiler room key hangs in cabinet K7.", title="Facilities memo")
    manual = pdf_bytes(tmp_path, "Printer PX-200 supports up to 12 layers.")
    response = upload(local, "team", ("memo.docx", memo), ("manual.pdf", manual))
    assert response.status_code == 200
    results = {r["file"]: r for r in response.json()["results"]}
    assert results["memo.docx"]["status"] == "added" and results["memo.docx"]["chunks"] >= 1
    assert results["manual.pdf"]["status"] == "added"

    docs = {d["name"]: d for d in local.get("/api/kb/team/documents").json()["documents"]}
    assert docs["memo.docx"]["title"] == "Facilities memo"
    assert docs["memo.docx"]["type"] == "docx" and docs["manual.pdf"]["type"] == "pdf"
    assert docs["memo.docx"]["bytes"] == len(memo) and docs["memo.docx"]["indexed_at"]

    # answerable at once: the new passages are found without a restart
    hits = local.get("/api/search", params={"q": "boiler room key K7", "kb": "team"}).json()
    assert hits["hits"][0]["source"] == "memo.docx"

    # the same bytes again, under another name: kept once
    again = upload(local, "team", ("copy.docx", memo)).json()["results"]
    assert again[0]["status"] == "unchanged" and "memo.docx" in again[0]["reason"]

    gone = local.delete(f"/api/kb/team/documents/{docs['memo.docx']['id']}")
    assert gone.status_code == 200
    assert [d["name"] for d in local.get("/api/kb/team/documents").json()["documents"]] == [
        "manual.pdf"
    ]
    hits = local.get("/api/search", params={"q": "boiler room key K7", "kb": "team"}).json()
    assert all(h["source"] != "memo.docx" for h in hits["hits"])
    assert local.delete(f"/api/kb/team/documents/{docs['memo.docx']['id']}").status_code == 404

    assert local.delete("/api/kb/team").status_code == 200
    assert "team" not in [k["name"] for k in local.get("/api/kb").json()["knowledge_bases"]]
    assert local.get("/api/kb/team/documents").status_code == 404


def test_an_upload_streams_each_files_progress_and_a_broken_file_does_not_stop_others(
    local: TestClient, ingested: RagService
) -> None:
    local.post("/api/kb", json={"name": "mixed"})
    good = docx_bytes("Visitors sign in at gate 3.")
    response = upload(
        local,
        "mixed",
        ("broken.docx", b"PK\x03\x04 not a zip at all"),
        ("good.docx", good),
        headers={"Accept": "application/x-ndjson"},
    )
    lines = [json.loads(line) for line in response.text.splitlines()]
    steps = [(x.get("file"), x.get("status")) for x in lines[:-1]]
    assert list(dict.fromkeys(steps)) == [
        ("broken.docx", "indexing"),
        ("broken.docx", "failed"),
        ("good.docx", "indexing"),
        ("good.docx", "added"),
    ]
    assert "damaged" in lines[1]["reason"]
    # while a file is embedded, how far it is
    [*_, last_progress] = [x for x in lines if x.get("total")]
    assert last_progress["file"] == "good.docx"
    assert last_progress["chunks"] == last_progress["total"] >= 1
    assert lines[-1] == {"done": True, "status": 200, "files": 2}
    assert kb_files(ingested, "mixed") == ["good.docx"]


def test_a_new_version_of_a_file_replaces_the_old_and_a_broken_one_keeps_it(
    local: TestClient, ingested: RagService
) -> None:
    local.post("/api/kb", json={"name": "versions"})
    upload(local, "versions", ("rules.docx", docx_bytes("Lunch is at noon.")))
    newer = upload(local, "versions", ("rules.docx", docx_bytes("Lunch is at one.")))
    assert newer.json()["results"][0]["status"] == "updated"
    broken = upload(local, "versions", ("rules.docx", b"PK\x03\x04 broken"))
    assert broken.status_code == 422 and broken.json()["results"][0]["status"] == "failed"
    assert kb_files(ingested, "versions") == ["rules.docx"]
    hits = local.get("/api/search", params={"q": "lunch", "kb": "versions"}).json()["hits"]
    assert "one" in hits[0]["text"]
    folder = ingested.settings.kb_dir("versions") / "files"
    assert "one" in _docx_text(folder / "rules.docx")  # the good version is back on disk


def _docx_text(path: Path) -> str:
    import docx

    return " ".join(p.text for p in docx.Document(str(path)).paragraphs)


# ---------------------------------------------------------------- who may change


def test_changes_only_from_this_machine_without_an_admin_token(ingested: RagService) -> None:
    remote = client_for(ingested, REMOTE)
    assert remote.get("/api/kb").status_code == 200  # reading stays open
    assert remote.get("/api/kb/jinan/documents").status_code == 200
    for response in (
        remote.post("/api/kb", json={"name": "x"}),
        remote.delete("/api/kb/jinan"),
        upload(remote, "jinan", ("a.txt", "文字".encode())),
        remote.delete("/api/kb/jinan/documents/1"),
        remote.post("/api/kb/jinan/reindex"),
    ):
        assert response.status_code == 403 and "RAG_ADMIN_TOKEN" in response.json()["error"]
    assert ingested.knowledge_bases() == ["jinan"] and ingested.documents("jinan")


def test_with_an_admin_token_it_is_required_from_anywhere(settings: Settings) -> None:
    service = fake_service(settings.model_copy(update={"admin_token": "s3cret"}))
    local, remote = client_for(service), client_for(service, REMOTE)
    assert local.post("/api/kb", json={"name": "a"}).status_code == 401
    wrong = {"X-Admin-Token": "guess"}
    assert remote.post("/api/kb", json={"name": "a"}, headers=wrong).status_code == 401
    ok = remote.post("/api/kb", json={"name": "a"}, headers={"X-Admin-Token": "s3cret"})
    assert ok.status_code == 201
    bearer = {"Authorization": "Bearer s3cret"}
    assert remote.delete("/api/kb/a", headers=bearer).status_code == 200


def test_admin_token_also_passes_the_access_token_gate(settings: Settings) -> None:
    service = fake_service(
        settings.model_copy(update={"admin_token": "adm", "access_token": "read"})
    )
    remote = client_for(service, REMOTE)
    assert remote.get("/api/kb").status_code == 401
    assert remote.get("/api/kb", headers={"Authorization": "Bearer read"}).status_code == 200
    made = remote.post("/api/kb", json={"name": "b"}, headers={"X-Admin-Token": "adm"})
    assert made.status_code == 201
    reader = remote.post("/api/kb", json={"name": "c"}, headers={"Authorization": "Bearer read"})
    assert reader.status_code == 401


def test_a_page_of_another_site_cannot_change_anything(local: TestClient) -> None:
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = local.post("/api/kb", json={"name": "csrf"}, headers=headers)
        assert response.status_code == 403
    assert local.post("/api/kb", json={"name": "ok"}, headers={"Origin": "http://testserver"})


# ---------------------------------------------------------------- names and files


@pytest.mark.parametrize("name", ["../up", "a/b", "/etc", "x\ny", "", "名字", "a b", "."])
def test_bad_knowledge_base_names_are_refused(local: TestClient, name: str) -> None:
    response = local.post("/api/kb", json={"name": name})
    assert response.status_code == 400, name
    assert "letters, digits" in response.json()["error"]


def raw_upload(client: TestClient, kb: str, name: bytes, data: bytes) -> Any:
    """A multipart body written by hand: the file name reaches the server byte for byte
    (a client library would clean it first)."""
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="files"; filename="'
        + name
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + b"\r\n--b0undary--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    return client.post(f"/api/kb/{kb}/documents", content=body, headers=headers)


@pytest.mark.parametrize(
    "name",
    [
        "../escape.txt",
        "/etc/passwd.txt",
        "..\\..\\escape.txt",
        "sub/dir.txt",
        "bell\x07.txt",
        "tab\there.txt",
        ".hidden.txt",
        "rtl\u202etxt.exe.txt",
        "..",
    ],
)
def test_hostile_file_names_are_refused_and_nothing_is_written(
    local: TestClient, ingested: RagService, name: str
) -> None:
    local.post("/api/kb", json={"name": "names"})
    response = raw_upload(local, "names", name.encode(), "正文内容".encode())
    assert response.status_code == 400, (name, response.text)
    assert response.json()["results"][0]["status"] == "refused"
    assert kb_files(ingested, "names") == []
    assert not list(ingested.settings.index_dir.rglob("escape*"))


def test_a_file_without_a_name_is_refused(local: TestClient) -> None:
    local.post("/api/kb", json={"name": "names"})
    assert raw_upload(local, "names", b"", b"text").status_code in (400, 422)


def test_unknown_types_are_refused_with_what_is_taken(local: TestClient) -> None:
    local.post("/api/kb", json={"name": "types"})
    response = upload(local, "types", ("tool.exe", b"MZ\x90\x00"))
    assert response.status_code == 415
    assert ".pdf" in response.json()["results"][0]["reason"]


def test_an_oversize_file_gets_413_and_leaves_nothing(settings: Settings) -> None:
    service = fake_service(settings.model_copy(update={"max_upload_bytes": 1000}))
    client = client_for(service)
    client.post("/api/kb", json={"name": "big"})
    response = upload(client, "big", ("huge.txt", "字".encode() * 2000))
    assert response.status_code == 413 and "1,000" in response.json()["results"][0]["reason"]
    assert list((service.settings.kb_dir("big") / "files").iterdir()) == []
    mixed = upload(client, "big", ("huge.txt", b"x" * 5000), ("small.txt", "小文件内容".encode()))
    statuses = {r["file"]: r["status"] for r in mixed.json()["results"]}
    assert mixed.status_code == 200 and statuses == {"huge.txt": "refused", "small.txt": "added"}
    assert kb_files(service, "big") == ["small.txt"]


def test_an_upload_into_a_missing_or_badly_named_kb(local: TestClient) -> None:
    assert upload(local, "nope", ("a.txt", b"text")).status_code == 404
    assert upload(local, "..", ("a.txt", b"text")).status_code in (400, 404)


def test_reindex_reads_every_document_again_and_keeps_uploads(
    local: TestClient, ingested: RagService
) -> None:
    local.post("/api/kb", json={"name": "re"})
    upload(local, "re", ("a.docx", docx_bytes("Parking permits renew in March.")))
    response = local.post("/api/kb/re/reindex")
    assert response.status_code == 200 and response.json()["summary"].startswith("1 added")
    assert kb_files(ingested, "re") == ["a.docx"]
    hits = local.get("/api/search", params={"q": "parking permits", "kb": "re"}).json()["hits"]
    assert hits and hits[0]["source"] == "a.docx"


# ---------------------------------------------------------------- racing questions


def test_an_upload_racing_four_questions(local: TestClient, ingested: RagService) -> None:
    """Questions asked while a document is indexed all complete, without errors, with
    the same answer (the scripted model cites a passage that stays)."""
    body = "\n\n".join(f"第{i}节：园区第{i}号仓库存放备用物资，编号W{i}。" for i in range(300))
    answers: list[Any] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            response = local.post("/api/ask", json={"question": "示范区新建多少个5G基站？"})
            answers.append([json.loads(x) for x in response.text.splitlines()][-1])
        except BaseException as exc:
            errors.append(exc)

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for t in askers:
        t.start()
    result = upload(local, "jinan", ("warehouse.txt", body.encode()))
    for t in askers:
        t.join(timeout=60)
    assert not errors and len(answers) == 4
    assert all(a["type"] == "done" and not a["refused"] for a in answers)
    assert len({a["answer"] for a in answers}) == 1
    assert result.json()["results"][0]["status"] == "added"
    assert "warehouse.txt" in [d.name for d in ingested.documents("jinan")]
