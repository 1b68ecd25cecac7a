"""Every error a user can act on, in one place: a kind, and what to say about it in
Chinese and in English. Front ends show `message(language)` and choose an HTTP status
by the kind (`code`); none of them matches message strings."""

from __future__ import annotations

from pathlib import Path


class Cancelled(Exception):
    """Not an error: the one who asked has gone (or the server is stopping), so the
    answer stops; nobody is reading."""


class RagError(Exception):
    code = "error"

    def __init__(self, zh: str, en: str | None = None):
        super().__init__(zh if en is None or en == zh else f"{zh} ({en})")
        self.zh = zh
        self.en = en or zh

    def message(self, language: str = "zh") -> str:
        return self.en if language == "en" else self.zh


class BadQuestionError(RagError):
    """The question itself: empty, too long, no words."""

    code = "bad_question"


class EmptyQueryError(BadQuestionError):
    """A search with nothing to search for."""


class KnowledgeBaseError(RagError):
    """A knowledge base that does not exist, has a bad name, or was built otherwise."""

    code = "knowledge_base"


class LoaderError(RagError):
    """A file that cannot be turned into text. The message names the file and what to do."""

    code = "bad_file"

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LLMError(RagError):
    """The language model could not answer; the message says what to check."""

    code = "unavailable"


class QueueFullError(RagError):
    code = "busy"

    def __init__(self, waiting: int):
        super().__init__(
            f"服务器正忙：已有 {waiting} 个请求在排队，请稍后再试。",
            f"The server is busy: {waiting} requests are already waiting. Try again shortly.",
        )


class QueueTimeoutError(RagError):
    code = "timeout"

    def __init__(self, seconds: float):
        super().__init__(
            f"等待超时：排队超过 {seconds:.0f} 秒仍未轮到，请稍后再试。",
            f"Timed out: waited more than {seconds:.0f} s in the queue. Try again shortly.",
        )


class QueueClosedError(RagError):
    code = "stopping"

    def __init__(self) -> None:
        super().__init__(
            "服务器正在停止，请稍后再试。", "The server is stopping. Try again shortly."
        )


class InternalError(RagError):
    """Anything unexpected: the kind goes to the user, the traceback to the server log."""

    code = "internal"

    def __init__(self, kind: str):
        super().__init__(
            f"内部错误（{kind}），回答没有完成。详情在服务器日志里，请重试或联系管理员。",
            f"Internal error ({kind}); the answer did not finish. The server log has details.",
        )
