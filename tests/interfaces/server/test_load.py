"""A load test on loopback with the bundled model: 8 conversations at once all finish,
none errors, and the waiting ones are told their place in line."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from tests.interfaces.server.conftest import LiveServer

pytestmark = pytest.mark.real_model

QUESTIONS = [
    "济南2021年打算沿黄河打造的生态风貌带有多长?",
    "2023年政府工作报告给济南定的研发投入强度目标是多少?",
    "绿色低碳三年行动计划要求成品粮油储备能满足市场多少天的需求?",
    "高新区力争2025年多少比例的政务事项可以线上办理?",
    "规划期末孙村片区的人口规模目标大约是多少?",
    "2023年济南希望金融行业创造的增加值达到什么规模?",
    "为推动工业发展,济南市财政每年至少投入多少专门资金?",
    "高新区创新园“1+1+4”联动布局中,唯一的核心园区是哪里?",
]


def converse(url: str, question: str, out: dict[str, Any]) -> None:
    events = []
    with (
        httpx.Client(timeout=900) as client,
        client.stream("POST", url + "/api/ask", json={"question": question}) as response,
    ):
        out["status"] = response.status_code
        for line in response.iter_lines():
            if line.strip():
                events.append(json.loads(line))
    out["events"] = events


def test_eight_conversations_at_once_all_complete(real_live: LiveServer) -> None:
    settings = real_live_settings(real_live)
    saved = settings.llm_max_tokens
    settings.llm_max_tokens = 48  # short answers: this tests the queue, not the model
    try:
        results: list[dict[str, Any]] = [{} for _ in QUESTIONS]
        threads = [
            threading.Thread(target=converse, args=(real_live.url, q, r))
            for q, r in zip(QUESTIONS, results, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        settings.llm_max_tokens = saved

    assert [r["status"] for r in results] == [200] * 8
    finals = [r["events"][-1] for r in results]
    assert [f["type"] for f in finals] == ["done"] * 8, finals
    assert all(f["answer"] for f in finals)
    places = [[e["position"] for e in r["events"] if e["type"] == "queued"] for r in results]
    waited = [p for p in places if p]
    assert len(waited) >= 6, places  # with one answer at a time, most had to wait
    assert max(max(p) for p in waited) >= 6  # the last ones saw a long line
    assert all(p == sorted(p, reverse=True) for p in waited)  # and saw it move up
    health = httpx.get(real_live.url + "/health").json()
    assert health["queue"] == {"active": 0, "waiting": 0, "limit": 1}


def real_live_settings(server: LiveServer) -> Any:
    assert server.service is not None
    return server.service.settings
