/*
 * Chat panel that runs inside the widget iframe (served at /widget/panel).
 *
 * Security rule for this file: every piece of text that comes from the user or
 * the server (questions, answers, file names, document text, error messages) is
 * inserted with textContent / createTextNode. innerHTML is never used, so an
 * answer or a document containing <script> or <img onerror=...> shows up as
 * literal text and cannot run.
 */
(() => {
  "use strict";

  // ---------------------------------------------------------------- settings

  const query = new URLSearchParams(location.search);
  const LANG = query.get("lang") === "en" ? "en" : "zh";
  const KB = (query.get("kb") || "").trim();
  const TOKEN = (query.get("token") || "").trim();
  const COLOR_RE = /^#[0-9a-fA-F]{3,8}$/;

  const TEXT = {
    zh: {
      title: "问答助手",
      newChat: "新对话",
      send: "发送",
      question: "问题",
      placeholder: "请输入问题，Enter 发送，Shift+Enter 换行",
      hint: "您好！请提出与知识库相关的问题，回答会标注引用来源，点击编号可查看原文。",
      queued: (n) => `排队中：前面还有 ${n} 个请求`,
      thinking: "正在检索与生成…",
      connecting: "正在连接…",
      networkError: "网络错误，无法连接到问答服务。",
      httpError: (s) => `请求失败（HTTP ${s}）。`,
      interrupted: "回答未完成：连接已中断。",
      sources: "引用来源",
      close: "关闭",
      openNew: "在新窗口打开全文",
      loading: "正在加载原文…",
      sourceError: "无法加载原文。",
      page: (n) => `第 ${n} 页`,
      you: "我",
      assistant: "助手",
    },
    en: {
      title: "Assistant",
      newChat: "New chat",
      send: "Send",
      question: "Question",
      placeholder: "Ask a question (Enter to send, Shift+Enter for a new line)",
      hint: "Hello! Ask a question about the knowledge base. Answers cite their sources; click a number to see the original text.",
      queued: (n) => `Queued: ${n} ahead`,
      thinking: "Thinking…",
      connecting: "Connecting…",
      networkError: "Network error: cannot reach the assistant service.",
      httpError: (s) => `Request failed (HTTP ${s}).`,
      interrupted: "The answer is incomplete: the connection was interrupted.",
      sources: "Sources",
      close: "Close",
      openNew: "Open in a new window",
      loading: "Loading source…",
      sourceError: "Could not load the source.",
      page: (n) => `p. ${n}`,
      you: "You",
      assistant: "Assistant",
    },
  }[LANG];

  const TITLE = (query.get("title") || "").trim() || TEXT.title;

  // ---------------------------------------------------------------- elements

  const $ = (id) => document.getElementById(id);
  const titleEl = $("panel-title");
  const messagesEl = $("messages");
  const conversationEl = $("conversation");
  const hintEl = $("hint");
  const suggestionsEl = $("suggestions");
  const questionEl = $("question");
  const sendBtn = $("send");
  const newChatBtn = $("new-chat");
  const statusEl = $("status");
  const formEl = $("ask-form");
  const viewEl = $("source-view");
  const viewName = $("source-view-name");
  const viewSection = $("source-view-section");
  const viewBody = $("source-body");
  const viewClose = $("source-close");
  const viewOpenNew = $("source-open-new");

  // ---------------------------------------------------------------- state

  /** Finished turns of this panel, sent as `history` with the next question. */
  let history = [];
  /** AbortController of the request in flight (null when idle). */
  let inflight = null;
  /** Element focused before the source viewer opened, to restore focus. */
  let focusBeforeViewer = null;
  /** Bumped on every viewer open so a slow response cannot overwrite a newer one. */
  let viewerSeq = 0;

  // ---------------------------------------------------------------- init

  function init() {
    document.documentElement.lang = LANG === "en" ? "en" : "zh-CN";
    // The colour is validated before it reaches CSS, so a crafted `color`
    // parameter cannot inject style rules.
    const color = query.get("color") || "";
    if (COLOR_RE.test(color)) document.documentElement.style.setProperty("--primary", color);

    titleEl.textContent = TITLE;
    document.title = TITLE;
    newChatBtn.textContent = TEXT.newChat;
    sendBtn.textContent = TEXT.send;
    $("question-label").textContent = TEXT.question;
    questionEl.placeholder = TEXT.placeholder;
    hintEl.textContent = TEXT.hint;
    viewClose.setAttribute("aria-label", TEXT.close);
    viewClose.title = TEXT.close;
    viewOpenNew.textContent = TEXT.openNew;

    sendBtn.addEventListener("click", () => ask());
    // Belt and braces: never let the form do a native (page-reloading) submit.
    formEl.addEventListener("submit", (e) => {
      e.preventDefault();
      ask();
    });
    questionEl.addEventListener("keydown", (e) => {
      // isComposing: Enter that confirms a Chinese IME candidate must not send.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        ask();
      }
    });
    newChatBtn.addEventListener("click", newChat);

    // One delegated listener handles citations and source items of all answers.
    messagesEl.addEventListener("click", onMessagesClick);
    messagesEl.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && e.target.closest(".sources li")) {
        e.preventDefault();
        onMessagesClick(e);
      }
    });

    viewClose.addEventListener("click", closeViewer);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !viewEl.hidden) closeViewer();
    });

    updateHint();
    loadSuggestions();
    questionEl.focus({ preventScroll: true });
  }

  /** The knowledge base's own suggested questions (written from its passages and
   * checked by the server), as buttons that ask them. Text only: never HTML. */
  async function loadSuggestions() {
    const params = new URLSearchParams();
    if (KB) params.set("kb", KB);
    try {
      const res = await fetch("/api/suggestions?" + params.toString(), { headers: authHeaders() });
      if (!res.ok) return;
      const data = await res.json();
      for (const question of (data.questions || []).slice(0, 5)) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "suggestion";
        button.textContent = String(question);
        button.addEventListener("click", () => {
          questionEl.value = String(question);
          ask();
        });
        suggestionsEl.appendChild(button);
      }
    } catch (e) {
      /* the panel works without suggestions */
    }
  }

  // ---------------------------------------------------------------- helpers

  function authHeaders(extra = {}) {
    const headers = { ...extra };
    if (TOKEN) headers.Authorization = "Bearer " + TOKEN;
    return headers;
  }

  function setStatus(text) {
    statusEl.textContent = text || "";
  }

  function setBusy(busy) {
    sendBtn.disabled = busy;
    messagesEl.setAttribute("aria-busy", String(busy));
  }

  function updateHint() {
    hintEl.hidden = messagesEl.childElementCount > 0;
    suggestionsEl.hidden = hintEl.hidden;
  }

  /** Keep the newest text visible, unless the user scrolled up to read. */
  function scrollToBottom(force = false) {
    const el = conversationEl;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (force || nearBottom) el.scrollTop = el.scrollHeight;
  }

  function addUserBubble(text) {
    const div = document.createElement("div");
    div.className = "msg user";
    div.setAttribute("aria-label", TEXT.you);
    div.textContent = text;
    messagesEl.appendChild(div);
    updateHint();
    scrollToBottom(true);
  }

  /** An assistant turn: the bubble plus (later) its sources list. */
  function addAssistantTurn() {
    const turn = document.createElement("div");
    turn.className = "turn";
    const bubble = document.createElement("div");
    bubble.className = "msg assistant pending";
    bubble.setAttribute("aria-label", TEXT.assistant);
    turn.appendChild(bubble);
    messagesEl.appendChild(turn);
    updateHint();
    scrollToBottom(true);
    return { turn, bubble };
  }

  function showError(bubble, message) {
    bubble.classList.remove("pending", "refused");
    bubble.classList.add("error");
    bubble.textContent = message;
    scrollToBottom();
  }

  // ---------------------------------------------------------------- asking

  async function ask() {
    if (inflight) return; // the button is disabled too; this also covers Enter
    const question = questionEl.value.trim();
    // An empty question is still sent: the server owns validation and answers
    // with {"error": "..."} which is shown like any other error.
    if (question) addUserBubble(question);
    questionEl.value = "";

    const { turn, bubble } = addAssistantTurn();
    const controller = new AbortController();
    inflight = controller;
    setBusy(true);
    setStatus(TEXT.connecting);

    const body = { question, history: history.slice() };
    if (KB) body.kb = KB;

    // Whatever happens, this turn's state lives in `ctx`.
    const ctx = { turn, bubble, question, text: "", finished: false };
    try {
      const res = await fetch("/api/ask", {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (!res.ok) {
        showError(bubble, await errorMessage(res));
        return;
      }
      await readNdjson(res, (event) => handleEvent(ctx, event));
      if (!ctx.finished) {
        // Stream ended without "done"/"error": keep what was streamed, flag it.
        if (ctx.text) {
          bubble.classList.remove("pending");
          bubble.classList.add("incomplete");
          const note = document.createElement("div");
          note.className = "note error";
          note.textContent = TEXT.interrupted;
          turn.appendChild(note);
        } else {
          showError(bubble, TEXT.interrupted);
        }
      }
    } catch (err) {
      if (err && err.name === "AbortError") return; // "new chat" cancelled it
      showError(bubble, TEXT.networkError);
    } finally {
      if (inflight === controller) {
        inflight = null;
        setBusy(false);
        setStatus("");
      }
    }
  }

  /** The server's {"error": "..."} message, or a generic one. */
  async function errorMessage(res) {
    try {
      const data = await res.json();
      if (data && typeof data.error === "string" && data.error) return data.error;
      // FastAPI's default validation errors use {"detail": ...}.
      if (data && typeof data.detail === "string" && data.detail) return data.detail;
    } catch (_) {
      /* not JSON */
    }
    return TEXT.httpError(res.status);
  }

  /** Read a newline-delimited JSON body incrementally, calling onEvent per line. */
  async function readNdjson(res, onEvent) {
    const handleLine = (line) => {
      line = line.trim();
      if (!line) return;
      let event;
      try {
        event = JSON.parse(line);
      } catch (_) {
        console.warn("panel: ignoring a malformed stream line");
        return;
      }
      onEvent(event);
    };

    if (!res.body || !res.body.getReader) {
      // Very old browsers: no streaming, but still correct.
      (await res.text()).split("\n").forEach(handleLine);
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder("utf-8");
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // stream: true keeps a multi-byte Chinese character split across chunks intact.
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop(); // the last piece may be an incomplete line
      lines.forEach(handleLine);
    }
    buffer += decoder.decode();
    handleLine(buffer);
  }

  function handleEvent(ctx, event) {
    if (!event || typeof event !== "object" || ctx.finished) return;
    const { bubble } = ctx;
    switch (event.type) {
      case "queued":
        setStatus(TEXT.queued(Number(event.position) || 0));
        break;
      case "started":
        setStatus(TEXT.thinking);
        break;
      case "token":
        if (!statusEl.textContent || statusEl.textContent === TEXT.connecting) setStatus(TEXT.thinking);
        bubble.classList.remove("pending");
        ctx.text += String(event.text ?? "");
        bubble.textContent = ctx.text; // plain text while streaming
        scrollToBottom();
        break;
      case "replace":
        bubble.classList.remove("pending");
        ctx.text = String(event.text ?? "");
        bubble.textContent = ctx.text;
        scrollToBottom();
        break;
      case "done": {
        ctx.finished = true;
        const answer = String(event.answer ?? ctx.text);
        const citations = Array.isArray(event.citations) ? event.citations : [];
        renderAnswer(ctx.turn, bubble, answer, citations, Boolean(event.refused));
        // Only completed turns become history for the follow-up questions.
        if (ctx.question) {
          history.push({ role: "user", content: ctx.question });
          history.push({ role: "assistant", content: answer });
        }
        setStatus("");
        scrollToBottom();
        break;
      }
      case "error":
        ctx.finished = true;
        showError(bubble, String(event.message || TEXT.networkError));
        setStatus("");
        break;
      default:
        // Unknown events are ignored so the server can add new ones safely.
        break;
    }
  }

  // ---------------------------------------------------------------- rendering

  // [1]  [1,2]  [1, 2]  [1、2]  [1，2]  (ASCII or full-width brackets)
  const MARKER_RE = /[\[［]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］]/g;

  /** "Title (file.pdf) · p. 4": the document's title, its file beside it, the page. */
  function sourceName(c) {
    const file = String(c.source ?? "");
    const title = String(c.title ?? "");
    const parts = [title && title !== file ? `${title} (${file})` : file];
    if (Number.isFinite(c.page)) parts.push(TEXT.page(c.page));
    return parts.join(" · ");
  }

  function lastSection(section) {
    const parts = String(section || "").split(/\s*>\s*/).filter(Boolean);
    return parts.length ? parts[parts.length - 1] : "";
  }

  /** Final rendering of an answer: text nodes + citation links + sources list. */
  function renderAnswer(turn, bubble, answer, citations, refused) {
    const byN = new Map();
    for (const c of citations) {
      if (c && Number.isFinite(Number(c.n))) byN.set(Number(c.n), c);
    }

    bubble.classList.remove("pending", "incomplete", "error");
    bubble.classList.toggle("refused", refused);
    bubble.textContent = "";
    const frag = document.createDocumentFragment();
    let last = 0;
    for (const m of answer.matchAll(MARKER_RE)) {
      const nums = m[1].split(/\s*[,，、]\s*/).map(Number);
      if (!nums.some((n) => byN.has(n))) continue; // not a citation: leave as text
      if (m.index > last) frag.appendChild(document.createTextNode(answer.slice(last, m.index)));
      for (const n of nums) {
        if (byN.has(n)) frag.appendChild(citeLink(n));
        else frag.appendChild(document.createTextNode(`[${n}]`));
      }
      last = m.index + m[0].length;
    }
    if (last < answer.length) frag.appendChild(document.createTextNode(answer.slice(last)));
    bubble.appendChild(frag);

    // Replace any earlier sources list (e.g. if "done" were sent twice).
    turn.querySelectorAll(".sources").forEach((el) => el.remove());
    if (byN.size === 0) return;

    const box = document.createElement("div");
    box.className = "sources";
    const heading = document.createElement("div");
    heading.className = "sources-title";
    heading.textContent = TEXT.sources;
    box.appendChild(heading);
    const list = document.createElement("ol");
    for (const c of [...byN.values()].sort((a, b) => a.n - b.n)) {
      const li = document.createElement("li");
      li.dataset.n = String(c.n);
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      const num = document.createElement("span");
      num.className = "src-n";
      num.textContent = `[${c.n}]`;
      const name = document.createElement("span");
      name.className = "src-name";
      name.textContent = sourceName(c);
      li.append(num, " ", name);
      const sec = lastSection(c.section);
      if (sec) {
        const secEl = document.createElement("span");
        secEl.className = "src-section";
        secEl.textContent = sec;
        secEl.title = String(c.section);
        li.append(" · ", secEl);
      }
      if (c.text) {
        const quote = document.createElement("mark");
        quote.textContent = String(c.text);
        li.append(document.createElement("br"), quote);
      }
      list.appendChild(li);
    }
    box.appendChild(list);
    turn.appendChild(box);
    // Keep the citation map on the turn for click handling.
    turn._citations = byN;
  }

  function citeLink(n) {
    const a = document.createElement("a");
    a.className = "cite";
    a.href = "#";
    a.dataset.n = String(n);
    a.textContent = `[${n}]`;
    return a;
  }

  function onMessagesClick(e) {
    const target = e.target.closest(".cite, .sources li");
    if (!target) return;
    e.preventDefault();
    const turn = target.closest(".turn");
    const citation = turn && turn._citations && turn._citations.get(Number(target.dataset.n));
    if (citation) openViewer(citation, target);
  }

  // ---------------------------------------------------------------- source viewer

  function sourceParams(c) {
    const p = new URLSearchParams();
    if (KB) p.set("kb", KB);
    p.set("chunk", String(c.chunk_id));
    if (c.start != null) p.set("start", String(c.start));
    if (c.end != null) p.set("end", String(c.end));
    return p;
  }

  async function openViewer(c, opener) {
    const seq = ++viewerSeq;
    focusBeforeViewer = opener || document.activeElement;
    const params = sourceParams(c);

    // Show what we already know while the full text loads.
    viewName.textContent = sourceName(c);
    viewSection.textContent = String(c.section ?? "");
    viewBody.textContent = TEXT.loading;
    viewBody.classList.remove("error");
    const full = new URLSearchParams(params);
    if (TOKEN) full.set("token", TOKEN); // a new window cannot receive a header
    viewOpenNew.href = "/source?" + full.toString();
    viewEl.hidden = false;
    viewClose.focus({ preventScroll: true });

    let data;
    try {
      const res = await fetch("/api/source?" + params.toString(), { headers: authHeaders() });
      if (!res.ok) throw new Error(await errorMessage(res));
      data = await res.json();
    } catch (err) {
      if (seq !== viewerSeq) return;
      viewBody.classList.add("error");
      viewBody.textContent = err instanceof TypeError ? TEXT.networkError : String(err.message || TEXT.sourceError);
      return;
    }
    if (seq !== viewerSeq || viewEl.hidden) return;

    viewName.textContent = sourceName({ ...c, ...data });
    viewSection.textContent = String(data.section ?? c.section ?? "");
    const mark = document.createElement("mark");
    mark.id = "cited-span";
    mark.textContent = String(data.text ?? "");
    viewBody.textContent = "";
    viewBody.append(String(data.before ?? ""), mark, String(data.after ?? ""));
    // Scroll only the viewer's own box (scrollIntoView could also scroll the
    // host page around the iframe).
    requestAnimationFrame(() => {
      const top = mark.offsetTop - viewBody.clientHeight / 3;
      viewBody.scrollTop = Math.max(0, top);
    });
  }

  function closeViewer() {
    viewerSeq++; // drop a response still in flight
    viewEl.hidden = true;
    viewBody.textContent = "";
    if (focusBeforeViewer && document.contains(focusBeforeViewer)) {
      focusBeforeViewer.focus({ preventScroll: true });
    }
    focusBeforeViewer = null;
  }

  // ---------------------------------------------------------------- new chat

  function newChat() {
    if (inflight) {
      inflight.abort();
      inflight = null;
    }
    history = [];
    messagesEl.textContent = "";
    if (!viewEl.hidden) closeViewer();
    setBusy(false);
    setStatus("");
    updateHint();
    questionEl.value = "";
    questionEl.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
