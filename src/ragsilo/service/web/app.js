// The ragsilo web page: search, ask and upload against the HTTP API.
// All text from the server is inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORE = "ragsilo.apiKey";

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function call(path, options) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.message ? body.message : response.status + " " + response.statusText;
    throw new Error(message);
  }
  return body;
}

function postJson(path, payload) {
  return call(path, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(payload),
  });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function where(hit) {
  let place = hit.source;
  if (hit.page) place += ", page " + hit.page;
  if (hit.section) place += " — " + hit.section;
  return place;
}

function hitItem(hit, label) {
  const li = el("li", "hit");
  const head = el("div", "hit-head");
  if (label) head.appendChild(el("span", "cite", label));
  head.appendChild(el("span", "hit-title", hit.title || hit.source));
  head.appendChild(el("span", "score", "score " + hit.score.toFixed(3)));
  if (hit.cluster_id !== null && hit.cluster_id !== undefined) {
    head.appendChild(el("span", "cluster", "cluster " + hit.cluster_id));
  }
  li.appendChild(head);
  li.appendChild(el("div", "source", where(hit)));
  const text = hit.text.length > 600 ? hit.text.slice(0, 600) + "…" : hit.text;
  li.appendChild(el("p", "snippet", text));
  return li;
}

function setStatus(id, text, isError) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("error", Boolean(isError));
}

async function busy(button, work) {
  button.disabled = true;
  try { await work(); } finally { button.disabled = false; }
}

async function loadStats() {
  try {
    const s = await call("/stats", { headers: headers() });
    const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
    $("stats").textContent = s.name + ": " + plural(s.documents, "document") + ", " +
      plural(s.rows, "chunk") + " · " + s.index_type + " · Milvus " + s.server.kind + " " +
      s.server.version;
  } catch (e) {
    $("stats").textContent = "stats: " + e.message;
  }
}

function fillSelect(select, values, chosen) {
  select.replaceChildren(...values.map((v) => { const o = el("option", null, v); o.value = v; return o; }));
  if (values.includes(chosen)) select.value = chosen;
}

async function loadOptions() {
  const o = await call("/options");
  fillSelect($("mode"), o.modes, o.default_mode);
  fillSelect($("reranker"), o.rerankers, o.default_reranker);
  $("k").max = String(o.limits.max_k);
  $("query").maxLength = o.limits.max_query_chars;
  $("question").maxLength = o.limits.max_query_chars;
  $("key-box").hidden = !o.auth_required;
}

async function search(event) {
  event.preventDefault();
  await busy($("search-button"), async () => {
    setStatus("search-status", "searching…");
    $("results").replaceChildren();
    try {
      const r = await postJson("/search", {
        query: $("query").value,
        k: Number($("k").value) || 5,
        mode: $("mode").value,
        reranker: $("reranker").value,
      });
      r.hits.forEach((h) => $("results").appendChild(hitItem(h)));
      setStatus("search-status", r.hits.length + " hits in " + r.took_ms + " ms");
    } catch (e) {
      setStatus("search-status", e.message, true);
    }
  });
}

async function ask(event) {
  event.preventDefault();
  await busy($("ask-button"), async () => {
    setStatus("ask-status", "thinking…");
    $("answer").hidden = true;
    try {
      const a = await postJson("/ask", { question: $("question").value, k: Number($("k").value) || 5 });
      $("answer-text").textContent = a.answer;
      $("citations").replaceChildren(...a.citations.map((c) => hitItem(c, "[" + c.n + "]")));
      $("answer").hidden = false;
      setStatus("ask-status", a.mode === "llm" ? "answered by " + a.model : "extractive answer");
    } catch (e) {
      setStatus("ask-status", e.message, true);
    }
  });
}

async function upload(event) {
  event.preventDefault();
  const files = $("files").files;
  if (!files.length) return;
  await busy($("upload-button"), async () => {
    setStatus("upload-status", "ingesting " + files.length + " file(s)…");
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    try {
      const r = await call("/ingest", { method: "POST", headers: headers(), body: form });
      const rows = r.files.map((f) => {
        const tr = el("tr");
        tr.appendChild(el("td", null, f.path));
        tr.appendChild(el("td", f.status, f.status));
        tr.appendChild(el("td", null, String(f.chunks)));
        tr.appendChild(el("td", null, f.message || ""));
        return tr;
      });
      $("report").querySelector("tbody").replaceChildren(...rows);
      $("report").hidden = false;
      setStatus("upload-status", r.ingested + " ingested, " + r.skipped + " unchanged, " +
        r.failed + " failed · " + r.chunks_written + " chunks written");
      loadStats();
    } catch (e) {
      setStatus("upload-status", e.message, true);
    }
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  $("api-key").value = sessionStorage.getItem(KEY_STORE) || "";
  $("api-key").addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORE, $("api-key").value.trim());
    loadStats();
  });
  $("search-form").addEventListener("submit", search);
  $("ask-form").addEventListener("submit", ask);
  $("upload-form").addEventListener("submit", upload);
  try {
    await loadOptions();
  } catch (e) {
    setStatus("search-status", e.message, true);
  }
  loadStats();
  document.body.dataset.ready = "true";
});
