"""The chat page's words in Chinese and English, and how text from documents, the
model or a user is made safe to show there."""

from __future__ import annotations

import html
import re

TEXT = {
    "zh": {
        "title": "## 本地知识库问答",
        "language": "界面语言",
        "kb": "知识库",
        "chat": "对话",
        "placeholder": "输入关于文档的问题",
        "send": "发送",
        "new": "新对话",
        "examples": "可以这样问（助手从知识库的原文写出并验证过）",
        "sources": "引用来源",
        "no_sources": "回答引用的原文会显示在这里。",
        "read": "阅读上下文",
        "page": "第 {} 页",
        "queued": "⏳ 排队中：前面还有 {ahead} 个请求，请稍候…",
        "thinking": "🔎 正在检索资料并生成回答…",
        "empty_chat": "问一个关于知识库文档的问题，回答里的 [n] 可以点开原文。",
        "reading": "正在阅读的资料（回答完成后，这里显示它引用的原文）",
        "manage": "知识库管理",
        "new_kb": "新知识库名称（字母、数字、- 和 _）",
        "create": "创建",
        "admin_token": "管理令牌",
        "doc_columns": "编号|标题|文件|类型|大小|段落|索引时间",
        "doc_id": "文档编号",
        "delete_doc": "删除文档",
        "reindex": "重建索引",
        "delete_kb": "删除知识库",
        "created": "已创建知识库 {name}：把文件拖到上面即可添加文档。",
        "pick_doc": "请先填写要删除的文档编号（见表格第一列）。",
        "deleted_doc": "已删除 {name}。",
        "reindexing": "正在重建索引，完成前旧索引照常回答…",
        "deleted_kb": "已删除知识库 {name}。",
    },
    "en": {
        "title": "## Local knowledge-base Q&A",
        "language": "Interface language",
        "kb": "Knowledge base",
        "chat": "Chat",
        "placeholder": "Ask a question about the documents",
        "send": "Send",
        "new": "New conversation",
        "examples": "Try asking (written from the documents and checked by the assistant)",
        "sources": "Sources",
        "no_sources": "The passages an answer cites appear here.",
        "read": "Read the context",
        "page": "p. {}",
        "queued": "⏳ Queued: {ahead} request(s) ahead of you…",
        "thinking": "🔎 Searching the documents and writing the answer…",
        "empty_chat": "Ask about the documents; click an [n] in an answer to open its source.",
        "reading": "Passages being read (the cited ones replace them when the answer is done)",
        "manage": "Manage knowledge bases",
        "new_kb": "New knowledge base name (letters, digits, - and _)",
        "create": "Create",
        "admin_token": "Admin token",
        "doc_columns": "ID|Title|File|Type|Size|Chunks|Indexed",
        "doc_id": "Document ID",
        "delete_doc": "Delete document",
        "reindex": "Re-index",
        "delete_kb": "Delete knowledge base",
        "created": "Created {name}: drop files above to add documents.",
        "pick_doc": "Enter the ID of the document to delete (the table's first column).",
        "deleted_doc": "Deleted {name}.",
        "reindexing": "Re-indexing; the old index answers until it is done…",
        "deleted_kb": "Deleted the knowledge base {name}.",
    },
}
LANGUAGES = {"中文": "zh", "English": "en"}
_URL = re.compile(r"(?:https?|ftp|file)://[^\s<>\"'`）】」，。]+|www\.[^\s<>\"'`）】」，。]+", re.I)
# Markdown that could load or link something: ![x](u), [x](u), [x]: u
_LINK_SYNTAX = re.compile(r"([\\\[\]!])")


def as_markdown_text(text: str) -> str:
    """Text from a document, the model or a user, for a Markdown view, shown as text:
    HTML escaped (a <script> shows as text), no Markdown image or link (a document's
    ![](http://host/pixel.png) must not make the browser fetch it), and a web address as
    code: readable and copyable, not a link."""
    out, pos = [], 0
    for match in _URL.finditer(text):
        out.append(_LINK_SYNTAX.sub(r"\\\1", escape(text[pos : match.start()])))
        out.append("`" + escape(match.group(0).replace("`", "%60")) + "`")
        pos = match.end()
    out.append(_LINK_SYNTAX.sub(r"\\\1", escape(text[pos:])))
    return "".join(out)


def escape(text: str) -> str:
    """Text for an HTML view (the sources panel)."""
    return html.escape(text, quote=False)
