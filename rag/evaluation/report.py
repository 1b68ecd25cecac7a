"""report.json, report.html (plots as inline SVG: nothing to fetch) and comparisons."""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from typing import Any

from rag.evaluation.runner import HIT_KS, ItemResult

HEADLINE = [
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "mrr",
    "all_evidence@5",
    "answer_accuracy",
    "char_f1",
    "rouge_l",
    "refusal_rate",
    "false_refusal_rate",
    "citation_precision",
]


def cpu_name() -> str:
    """The CPU's model name and widest vector units (speeds differ between machines, and
    two 'AMD EPYC' may differ by AVX-512: every figure names it)."""
    import platform
    import subprocess

    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        name = fields["Model name"].strip()
    except (OSError, KeyError):
        return platform.processor() or "unknown CPU"
    flags = set(fields.get("Flags", "").split())
    units = [
        label
        for label, flag in (
            ("AVX2", "avx2"),
            ("AVX-512", "avx512f"),
            ("VNNI", "avx512_vnni"),
            ("bf16", "avx512_bf16"),
            ("AMX", "amx_tile"),
        )
        if flag in flags
    ]
    return f"{name} ({', '.join(units)})" if units else name


def build_report(
    summary: dict[str, Any], results: list[ItemResult], run_info: dict[str, Any]
) -> dict[str, Any]:
    return {"run": run_info, "metrics": summary, "items": [r.to_json() for r in results]}


def write_report(
    report: dict[str, Any], out_dir: Path, comparison: dict[str, Any] | None = None
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    if comparison is not None:
        report = {**report, "comparison": comparison}
    write_text_atomic(out_dir / "report.json", json.dumps(report, ensure_ascii=False, indent=2))
    write_text_atomic(out_dir / "report.html", render_html(report))
    return out_dir / "report.json"


# --------------------------------------------------------------------------- compare


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Metric deltas and the items that changed between two reports."""
    old_m, new_m = old["metrics"], new["metrics"]
    deltas = {
        key: {
            "old": old_m.get(key),
            "new": new_m.get(key),
            "delta": round(new_m[key] - old_m[key], 4),
        }
        for key in HEADLINE
        if isinstance(old_m.get(key), int | float) and isinstance(new_m.get(key), int | float)
    }
    old_failed = {it["id"]: _failed(it) for it in old["items"]}
    fixed, broken = [], []
    for item in new["items"]:
        if item["id"] not in old_failed:
            continue
        was, now = old_failed[item["id"]], _failed(item)
        if was and not now:
            fixed.append(item["id"])
        elif now and not was:
            broken.append(item["id"])
    return {"metrics": deltas, "better": fixed, "worse": broken}


def _failed(item: dict[str, Any]) -> bool:
    return ItemResult(**item).failed()


def format_comparison(comparison: dict[str, Any]) -> str:
    lines = ["metric                 old      new      change"]
    for key, d in comparison["metrics"].items():
        sign = "+" if d["delta"] > 0 else ""
        lines.append(f"{key:<20} {d['old']:>7.3f}  {d['new']:>7.3f}  {sign}{d['delta']:.3f}")
    lines.append(f"better: {', '.join(comparison['better']) or '-'}")
    lines.append(f"worse:  {', '.join(comparison['worse']) or '-'}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- html


def _bars(title: str, values: dict[str, float | None], scale: float = 1.0, unit: str = "") -> str:
    rows = [(k, v) for k, v in values.items() if v is not None]
    if not rows:
        return ""
    width, bar_h, label_w = 560, 22, 190
    height = bar_h * len(rows) + 30
    top = max(scale, *(v for _, v in rows)) or 1.0
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(rows):
        y = 24 + i * bar_h
        w = (width - label_w - 70) * value / top
        parts.append(f'<text x="0" y="{y + 14}">{escape(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 6}" fill="#4a7bd0"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{value:g}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict[str, Any]) -> str:
    metrics = report["metrics"]
    plots = [
        _bars("Retrieval hit@k", {f"hit@{k}": metrics.get(f"hit@{k}") for k in HIT_KS}),
        _bars("hit@5 by type", {k: v.get("hit@5") for k, v in metrics["by_type"].items()}),
        _bars("hit@5 by source", {k: v.get("hit@5") for k, v in metrics["by_source"].items()}),
    ]
    if "answer_accuracy" in metrics:
        plots.append(
            _bars(
                "Answer accuracy by type",
                {k: v.get("answer_accuracy") for k, v in metrics["by_type"].items()},
            )
        )
    plots.append(
        _bars(
            "Latency p50 (ms)",
            {k: v["p50"] for k, v in metrics["latency_ms"].items()},
            scale=0,
            unit=" ms",
        )
    )
    headline = "".join(
        f"<tr><td>{escape(k)}</td><td>{metrics[k]}</td></tr>"
        for k in HEADLINE
        if metrics.get(k) is not None
    )
    failed = [it for it in report["items"] if ItemResult(**it).failed()]
    comparison = report.get("comparison")
    compare_html = (
        f"<h2>Compared with the previous run</h2><pre>{escape(format_comparison(comparison))}</pre>"
        if comparison
        else ""
    )
    run = escape(json.dumps(report["run"], ensure_ascii=False))
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>Eval report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}
.q{{font-weight:bold}} .small{{font-size:85%;color:#444}}</style></head><body>
<h1>Eval report</h1><p class="small">{run}</p>
<h2>Headline</h2><table>{headline}</table>
{compare_html}
<h2>Plots</h2>{"<br>".join(p for p in plots if p)}
<h2>Failed items ({len(failed)})</h2>
<table><tr><th>id</th><th>question / gold</th><th>evidence rank</th><th>answer</th><th>top passages</th></tr>
{"".join(_failed_row(it) for it in failed)}</table></body></html>"""


def _failed_row(item: dict[str, Any]) -> str:
    top = "".join(
        f"<div class='small'>[{r['rank']}] {escape(r['source'])} · {escape(r['section'][-40:])}"
        f"{' ✓' if r['holds_evidence'] else ''}<br>{escape(r['text'][:160])}</div>"
        for r in item["retrieved"][:3]
    )
    answer = escape(item["answer"] or "") + (" <b>(refused)</b>" if item["refused"] else "")
    return (
        f"<tr><td>{escape(item['id'])}<br><span class='small'>{escape(item['type'])}</span></td>"
        f"<td><div class='q'>{escape(item['question'])}</div>{escape(item['gold_answer'])}</td>"
        f"<td>{item['evidence_rank'] or '-'}</td><td>{answer}</td><td>{top}</td></tr>"
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
