"""A knowledge base fits its own refusal threshold, keeps it, and fits anew after a big change."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.answer.checks.evidence import EvidenceCheck
from rag.evaluation.calibration import BAND, META_KEY, Calibration, fit_min_coverage
from rag.service import RagService
from rag.settings import Settings
from rag.types import ChatMessage
from tests.fakes.chat_model import FakeChatModel
from tests.fakes.embedder import HashingEmbedder


def checks(*coverages: float) -> list[EvidenceCheck]:
    return [EvidenceCheck(True, c, ()) for c in coverages]


def test_the_threshold_refuses_most_unanswerable_within_the_false_refusal_budget() -> None:
    answerable = checks(*([0.9] * 19), 0.32)  # one of 20 may be refused (5%)
    unanswerable = checks(0.1, 0.22, 0.3, 0.34, 0.38, 0.42, 0.7, 0.8)
    threshold, fitted = fit_min_coverage(answerable, unanswerable, default=0.4)
    # from 0.35 on the 0.32 answerable one is refused (the one allowed); 0.45 refuses
    # 6 unanswerable ones and 0.5 no more
    assert fitted and threshold == 0.45


def test_false_refusals_bound_the_threshold() -> None:
    answerable = checks(*([0.9] * 16), 0.26, 0.27, 0.31, 0.33)
    unanswerable = checks(*([0.24] * 8))
    threshold, _ = fit_min_coverage(answerable, unanswerable, default=0.4)
    assert threshold == 0.25  # 0.3 would refuse 2 of 20 answerable ones


def test_questions_missing_an_anchor_count_as_refused_at_any_threshold() -> None:
    answerable = checks(*([0.9] * 10))
    unanswerable = [EvidenceCheck(False, 0.95, ("2031",))] * 9
    threshold, fitted = fit_min_coverage(answerable, unanswerable, default=0.4)
    assert fitted and threshold == BAND[0]  # nothing gained by going higher


def test_too_few_questions_keep_the_default() -> None:
    assert fit_min_coverage(checks(0.9, 0.8), checks(0.1), default=0.4) == (0.4, False)


def test_a_calibration_is_outdated_once_a_fifth_of_the_chunks_changed() -> None:
    fit = Calibration(0.3, 20, 10, 0, 8, True, chunks=100, max_chunk_id=100)
    assert not fit.outdated(list(range(1, 101)))
    assert not fit.outdated(list(range(1, 101)) + list(range(101, 116)))  # 15 added
    assert fit.outdated(list(range(1, 101)) + list(range(101, 131)))  # 30 added
    assert fit.outdated(list(range(31, 101)))  # 30 removed
    assert fit.outdated(list(range(11, 101)) + list(range(101, 116)))  # 10 out, 15 in
    assert Calibration.from_json(fit.to_json()) == fit
    assert Calibration.from_json('{"min_coverage": 0.3}') is None  # another version's


PLAN = [
    f"第{i}项：{topic}项目计划投资{i * 7}亿元，由{org}负责实施，{year}年底前完成。"
    for i, (topic, org, year) in enumerate(
        [
            ("智能制造", "工业和信息化局", 2024),
            ("生物医药", "卫生健康委员会", 2025),
            ("新能源汽车", "发展和改革委员会", 2026),
            ("集成电路", "科学技术局", 2024),
            ("现代物流", "交通运输局", 2025),
            ("文化旅游", "文化和旅游局", 2026),
            ("智慧农业", "农业农村局", 2027),
            ("数字金融", "地方金融监督管理局", 2025),
            ("节能环保", "生态环境局", 2026),
            ("航空航天", "国防科技工业办公室", 2028),
        ],
        start=1,
    )
]


def scripted_writer(messages: Sequence[ChatMessage]) -> str:
    """A question about the passage's project, as a colleague might ask it."""
    passage = messages[-1].content.split("Passage:", 1)[1]
    topic = passage.split("：", 1)[1].split("项目", 1)[0]
    return f"{topic}项目计划投资多少亿元？"


def test_calibration_is_stored_reused_on_restart_and_redone_after_a_big_change(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for i, line in enumerate(PLAN):
        (corpus / f"project-{i}.txt").write_text(line, encoding="utf-8")
    settings = Settings(
        index_dir=tmp_path / "index",
        corpus_dir=corpus,
        cache_dir=tmp_path / "c",
        chunk_size=60,
        calibrate_refusal=True,
    )
    llm = FakeChatModel(scripted_writer)
    service = RagService(settings, embedder=HashingEmbedder(), llm=llm)
    service.ingest(progress=False)
    assert service.calibration() is None
    assert service.answer_pipeline().settings.min_coverage == settings.refusal_min_coverage

    fitted = service.calibrate_kb(count=5, progress=False)
    assert (fitted.answerable, fitted.fitted) == (5, False)  # too few questions to fit on
    fitted = service.calibrate_kb(count=10, progress=False)
    assert fitted.fitted and (fitted.answerable, fitted.unanswerable) == (10, 10)
    # without its project's name a question is covered by the rest of its words only,
    # which every passage holds: a higher threshold than the default refuses those
    assert fitted.answerable_refused == 0 < fitted.unanswerable_refused, fitted.text()
    assert fitted.min_coverage > settings.refusal_min_coverage

    calls = len(llm.calls)
    restarted = RagService(settings, embedder=HashingEmbedder(), llm=llm)
    assert restarted.calibration() == fitted
    assert restarted.answer_pipeline().settings.min_coverage == fitted.min_coverage
    off = RagService(
        settings.model_copy(update={"calibrate_refusal": False}), HashingEmbedder(), llm
    )
    assert off.answer_pipeline().settings.min_coverage == settings.refusal_min_coverage
    assert len(llm.calls) == calls  # nothing was written anew

    (corpus / "project-0.txt").write_text(PLAN[0].replace("7亿元", "8亿元"), encoding="utf-8")
    restarted.ingest(progress=False)
    assert restarted.calibration() == fitted  # one document in ten changed: kept
    for i in range(1, 4):
        assert restarted.remove(corpus / f"project-{i}.txt")
    assert restarted.calibration() is None  # four in ten: fitted anew when next asked
    assert restarted.answer_pipeline().settings.min_coverage == settings.refusal_min_coverage


@pytest.mark.real_model
def test_the_real_model_calibrates_the_bundled_reports(bundled_service: RagService) -> None:
    catalog = bundled_service.retriever().kb.catalog
    try:
        fitted = bundled_service.calibrate_kb(count=16, progress=False)
        assert fitted.fitted and fitted.min_coverage in BAND
        assert fitted.answerable >= 12
        # questions without their most telling word are refused more often than as written
        assert fitted.unanswerable_refused / fitted.unanswerable > (
            fitted.answerable_refused / fitted.answerable
        ), fitted.text()
        assert bundled_service.calibration() == fitted
    finally:  # the other tests share this knowledge base and expect the default
        catalog.set_meta(META_KEY, "")
