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


class _Worded(RagError):
    """An error whose words are fixed templates, filled with the values of the case."""

    zh_words = ""
    en_words = ""

    def __init__(self, **values: object):
        super().__init__(self.zh_words.format(**values), self.en_words.format(**values))


class QueueFullError(_Worded):
    code = "busy"
    zh_words = "服务器正忙：已有 {waiting} 个请求在排队，请稍后再试。"
    en_words = "The server is busy: {waiting} requests are already waiting. Try again shortly."


class QueueTimeoutError(_Worded):
    code = "timeout"
    zh_words = "等待超时：排队超过 {seconds:.0f} 秒仍未轮到，请稍后再试。"
    en_words = "Timed out: waited more than {seconds:.0f} s in the queue. Try again shortly."


class QueueClosedError(_Worded):
    code = "stopping"
    zh_words = "服务器正在停止，请稍后再试。"
    en_words = "The server is stopping. Try again shortly."


class InternalError(_Worded):
    """Anything unexpected: the kind goes to the user, the traceback to the server log."""

    code = "internal"
    zh_words = "内部错误（{kind}），回答没有完成。详情在服务器日志里，请重试或联系管理员。"
    en_words = "Internal error ({kind}); the answer did not finish. The server log has details."
