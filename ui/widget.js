/*
 * jinan-rag embeddable widget.
 *
 * Usage (one tag, anywhere in the page):
 *   <script src="http://HOST:PORT/widget.js" data-title="..."
 *           data-color="#b22222" data-lang="zh" data-token="OPTIONAL" data-kb="jinan"></script>
 *
 * The script adds a floating button that opens the chat panel in an iframe
 * served by the same server. Everything is self-contained: no CDN, no fonts.
 *
 * This file is deliberately pure ASCII (Chinese strings are \u escapes): a
 * classic script inherits the host page's encoding when the server does not
 * send a charset, and many intranet pages are still GBK.
 */
(function () {
  "use strict";

  // document.currentScript is only set while the script is being executed
  // synchronously; it is null inside callbacks, so capture it right away.
  const script = document.currentScript;

  // Guard against the tag being pasted twice (or the script loaded twice by a
  // SPA router): the second copy does nothing.
  if (window.__ragWidget) return;
  window.__ragWidget = { status: "loading" };

  if (!script || !script.src) {
    // Loaded as a module / injected in a way we cannot locate ourselves.
    console.warn("jinan-rag widget: cannot determine the server address (document.currentScript is missing)");
    window.__ragWidget = { status: "refused" };
    return;
  }

  const origin = new URL(script.src, location.href).origin;
  const data = script.dataset;
  const token = (data.token || "").trim();
  const kb = (data.kb || "").trim();

  const COLOR_RE = /^#[0-9a-fA-F]{3,8}$/;
  const DEFAULT_COLOR = "#b22222";

  function refuse() {
    console.warn(
      "jinan-rag widget: this page's origin (" + location.origin +
        ") is not allowed to embed the assistant, or the server is down"
    );
    window.__ragWidget = { status: "refused" };
  }

  // A plain GET with no custom headers is a CORS "simple request": no
  // preflight. The token therefore travels as a query parameter here.
  const configUrl = new URL(origin + "/widget/config");
  if (token) configUrl.searchParams.set("token", token);

  fetch(configUrl.toString(), { mode: "cors", credentials: "omit" })
    .then((res) => {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    })
    .then((config) => {
      // The page is ready by now in most cases, but the script may sit in <head>.
      if (document.body) mount(config || {});
      else document.addEventListener("DOMContentLoaded", () => mount(config || {}), { once: true });
    })
    .catch(refuse); // TypeError (CORS refused / server down) or non-OK status

  function mount(config) {
    // data-* attributes on the tag win over the server's defaults.
    const title = String(data.title || config.title || "\u667a\u80fd\u95ee\u7b54");
    let color = String(data.color || config.color || DEFAULT_COLOR);
    if (!COLOR_RE.test(color)) color = DEFAULT_COLOR; // never put unvalidated text in CSS
    const lang = (data.lang || config.lang) === "en" ? "en" : "zh";
    const labels = lang === "en"
      ? { open: "Open assistant: ", close: "Close assistant" }
      : { open: "\u6253\u5f00\u52a9\u624b\uff1a", close: "\u5173\u95ed\u52a9\u624b" }; // "Open assistant: ", "Close assistant"

    // Shadow DOM isolates our styles from the page and the page's from ours.
    const host = document.createElement("div");
    host.id = "rag-widget-host";
    // The host itself must not be affected by page rules like `div { ... }`.
    host.style.cssText = "all: initial; position: fixed; z-index: 2147483000; right: 0; bottom: 0; width: 0; height: 0;";
    const root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

    const style = document.createElement("style");
    // Only the validated colour is interpolated into the stylesheet.
    style.textContent = `
      :host { all: initial; }
      * { box-sizing: border-box; }
      .btn {
        position: fixed; right: 20px; bottom: 20px;
        width: 56px; height: 56px; border-radius: 50%;
        border: none; cursor: pointer; padding: 0;
        background: ${color}; color: #fff;
        box-shadow: 0 4px 14px rgba(0,0,0,.25);
        display: flex; align-items: center; justify-content: center;
        transition: transform .15s ease;
      }
      .btn:hover { transform: scale(1.06); }
      .btn:focus-visible { outline: 3px solid #222; outline-offset: 3px; }
      .btn svg { width: 28px; height: 28px; fill: currentColor; pointer-events: none; }
      .panel {
        position: fixed; right: 20px; bottom: 88px;
        width: 380px; height: 560px; max-width: 90vw; max-height: 80vh;
        background: #fff; border-radius: 12px; overflow: hidden;
        box-shadow: 0 8px 30px rgba(0,0,0,.3);
        display: none;
      }
      .panel.open { display: block; }
      iframe { width: 100%; height: 100%; border: 0; display: block; }
    `;

    const button = document.createElement("button");
    button.id = "rag-widget-button";
    button.type = "button";
    button.className = "btn";
    button.setAttribute("aria-label", labels.open + title);
    button.setAttribute("aria-expanded", "false");
    button.title = title; // attribute set via DOM API: no HTML parsing of data
    // Static markup only (a chat-bubble icon); contains no data.
    button.innerHTML =
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/></svg>';

    const panel = document.createElement("div");
    panel.className = "panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", title);

    const params = new URLSearchParams({ lang, title, color });
    if (kb) params.set("kb", kb);
    if (token) params.set("token", token);
    const frameSrc = origin + "/widget/panel?" + params.toString();

    let frame = null;
    function toggle() {
      const open = !panel.classList.contains("open");
      // Create the iframe lazily so pages that never open the assistant do not
      // load the panel at all.
      if (open && !frame) {
        frame = document.createElement("iframe");
        frame.id = "rag-widget-frame";
        frame.title = title;
        frame.src = frameSrc;
        frame.setAttribute("allow", "clipboard-write");
        panel.appendChild(frame);
      }
      panel.classList.toggle("open", open);
      button.setAttribute("aria-expanded", String(open));
      button.setAttribute("aria-label", open ? labels.close : labels.open + title);
    }
    button.addEventListener("click", toggle);
    // Escape closes the panel when focus is on the button (the iframe handles its own keys).
    button.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && panel.classList.contains("open")) toggle();
    });

    root.appendChild(style);
    root.appendChild(panel);
    root.appendChild(button);
    document.body.appendChild(host);

    window.__ragWidget = { status: "ready" };
  }
})();
