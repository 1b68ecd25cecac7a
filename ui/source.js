/*
 * Full-page source viewer, served at /source?kb=&chunk=&start=&end=&token=.
 * Shows the document text around a citation with the cited span highlighted.
 * Server data is only ever inserted with textContent / text nodes.
 */
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);

  function showError(message) {
    $("source-loading").hidden = true;
    const el = $("source-error");
    el.textContent = message;
    el.hidden = false;
  }

  async function load() {
    const query = new URLSearchParams(location.search);
    const token = (query.get("token") || "").trim();

    // Forward only the locator to the API; the token goes in a header so it
    // does not end up in the API's access logs.
    const params = new URLSearchParams();
    for (const key of ["kb", "chunk", "start", "end"]) {
      const v = query.get(key);
      if (v !== null && v !== "") params.set(key, v);
    }
    if (!params.has("chunk")) {
      showError("缺少参数 chunk，无法定位原文。");
      return;
    }

    const headers = {};
    if (token) headers.Authorization = "Bearer " + token;

    let data;
    try {
      const res = await fetch("/api/source?" + params.toString(), { headers });
      if (!res.ok) {
        let message = `加载原文失败（HTTP ${res.status}）。`;
        try {
          const body = await res.json();
          if (body && typeof body.error === "string" && body.error) message = body.error;
          else if (body && typeof body.detail === "string" && body.detail) message = body.detail;
        } catch (_) {
          /* not JSON: keep the generic message */
        }
        showError(message);
        return;
      }
      data = await res.json();
    } catch (_) {
      showError("网络错误，无法连接到问答服务。");
      return;
    }

    $("source-loading").hidden = true;
    const file = String(data.source ?? "");
    const title = String(data.title ?? "");
    const name = title && title !== file ? `${title} (${file})` : file;
    $("source-name").textContent = Number.isFinite(data.page) ? `${name} · 第 ${data.page} 页` : name;
    $("source-section").textContent = String(data.section ?? "");
    // Hide the "章节：" label when the chunk has no section heading.
    document.querySelector(".section").hidden = !data.section;
    document.title = name ? name + " - 原文查看" : "原文查看";
    if (Number.isFinite(data.document_chars)) {
      $("source-info").textContent = `全文共 ${data.document_chars} 字`;
    }
    if (data.ocr) {
      $("source-info").textContent += "（此页文字由 OCR 从图像识别，可能有误，请对照页面图像）";
    }

    if (Number.isFinite(data.page)) {
      // The page as printed, rendered by the server with the cited lines highlighted
      // (an <img> sends the cookie the token set, not a header).
      const image = $("source-page-image");
      image.alt = `${name} 第 ${data.page} 页`;
      image.src = "/api/page?" + params.toString();
      $("source-page-caption").textContent = `第 ${data.page} 页`;
      $("source-page").hidden = false;
    }

    const mark = document.createElement("mark");
    mark.id = "cited-span";
    mark.textContent = String(data.text ?? "");
    const article = $("source-text");
    article.textContent = "";
    article.append(String(data.before ?? ""), mark, String(data.after ?? ""));
    // This is a top-level page, so scrollIntoView is safe here.
    requestAnimationFrame(() => mark.scrollIntoView({ block: "center" }));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
