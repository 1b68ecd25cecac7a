from __future__ import annotations

from rag.types import Passage, SearchHit


def passage(
    n: int, text: str, source: str = "plan.txt", start: int = 0, context: str = ""
) -> Passage:
    hit = SearchHit(
        rank=n,
        score=1.0 / n,
        source=source,
        section="二、重点任务",
        start=start,
        end=start + len(text),
        text=text,
        chunk_id=100 + n,
        context=context or text,
    )
    return Passage(n, hit, hit.start, hit.end, text)


PASSAGES = [
    passage(
        1,
        "数字经济核心产业增加值占GDP比重达到18%以上。建设算力中心3个,新建5G基站6000个。",
        start=100,
    ),
    passage(2, "新能源汽车产量突破20万辆。光伏装机容量达到150万千瓦。", start=300),
]
