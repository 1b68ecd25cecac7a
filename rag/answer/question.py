"""What counts as a question: checked once, before any model runs, with a message a
user can act on (in Chinese and English, since the UI may show either)."""

from __future__ import annotations

import unicodedata

from rag.errors import BadQuestionError
from rag.text.normal import printable


def check_question(text: str, max_chars: int) -> str:
    """The question with control characters removed, or BadQuestionError."""
    cleaned = printable(text or "")
    if not cleaned:
        raise BadQuestionError(
            "问题是空的：请输入一个关于文档的问题。",
            "The question is empty: type a question about your documents.",
        )
    if len(cleaned) > max_chars:
        raise BadQuestionError(
            f"问题太长（{len(cleaned)} 字）：请缩短到 {max_chars} 字以内，只问一件事。",
            f"The question is too long ({len(cleaned)} characters): keep it under {max_chars}.",
        )
    if not any(_is_wordlike(ch) for ch in cleaned):
        raise BadQuestionError(
            "问题里没有文字（只有符号或表情）：请用中文或英文提问。",
            "The question has no words, only symbols or emoji: ask in Chinese or English.",
        )
    return cleaned


def _is_wordlike(ch: str) -> bool:
    # letters (CJK ideographs are category Lo) and digits; emoji are So, punctuation P*
    return unicodedata.category(ch)[0] in "LN"
