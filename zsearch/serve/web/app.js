// zsearch's page: search, a paper, the themes map. Plain JS over the JSON API (/docs).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  // A --port service wants its bearer token; it arrives in the URL fragment (#token=...),
  // which browsers never send to a server, and is kept for this tab only.
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("zsearch-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = sessionStorage.getItem("zsearch-token");
  let lastHits = [];

  async function api(method, path, body, as) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!resp.ok) {
      let msg = resp.status + " " + resp.statusText;
      try { const e = await resp.json(); msg = e.message + (e.hint ? " (" + e.hint + ")" : ""); } catch (_) { /* not JSON */ }
      throw new Error(msg);
    }
    return as === "blob" ? resp.blob() : resp.json();
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") e.addEventListener("click", v); else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const status = (text, isError) => { $("status").textContent = text || ""; $("status").className = isError ? "error" : "muted"; };
  function show(which) { for (const s of ["results", "paper", "cluster"]) $(s).hidden = s !== which; }

  function links(id, doi, url, sources) {
    const out = el("div", { class: "links" });
    if (doi) out.append(el("a", { href: "https://doi.org/" + doi, target: "_blank", rel: "noopener" }, "DOI"));
    if (id.startsWith("arxiv:")) out.append(el("a", { href: "https://arxiv.org/abs/" + id.slice(6), target: "_blank", rel: "noopener" }, "arXiv"));
    if (id.startsWith("pmid:")) out.append(el("a", { href: "https://pubmed.ncbi.nlm.nih.gov/" + id.slice(5) + "/", target: "_blank", rel: "noopener" }, "PubMed"));
    if ((sources || []).includes("pdf")) {
      out.append(el("a", { href: "#", class: "pdf", onclick: (ev) => { ev.preventDefault(); openPdf(id); } }, "PDF"));
    }
    if (url && !out.textContent.includes("arXiv") && !out.textContent.includes("PubMed")) {
      out.append(el("a", { href: url, target: "_blank", rel: "noopener" }, "link"));
    }
    return out;
  }

  async function openPdf(id) {
    try {
      const blob = await api("GET", "/api/papers/" + encodeURIComponent(id) + "/pdf", undefined, "blob");
      window.open(URL.createObjectURL(blob), "_blank");
    } catch (e) { status(e.message, true); }
  }

  function filters() {
    const body = { query: $("q").value, k: parseInt($("k").value || "10", 10), mode: $("mode").value };
    for (const f of ["year", "since"]) if ($(f).value.trim()) body[f] = $(f).value.trim();
    for (const f of ["source", "category", "author"]) if ($(f).value.trim()) body[f] = [$(f).value.trim()];
    if ($("rerank").value.trim()) body.rerank = $("rerank").value.trim();
    return body;
  }

  async function search(ev) {
    if (ev) ev.preventDefault();
    if (!$("q").value.trim()) { status("type a question first", true); return; }
    status("searching…");
    const t0 = performance.now();
    try {
      const hits = await api("POST", "/api/search", filters());
      lastHits = hits;
      renderHits(hits);
      status(hits.length + " results in " + Math.round(performance.now() - t0) + " ms");
    } catch (e) { status(e.message, true); }
  }

  function renderHits(hits) {
    const box = $("results");
    box.replaceChildren();
    for (const h of hits) {
      const match = h.sentence || h.passage || (h.abstract || "").slice(0, 300);
      box.append(el("article", { class: "hit", "data-id": h.id },
        el("h2", {}, el("a", { href: "#", class: "title", onclick: (ev) => { ev.preventDefault(); openPaper(h.id); } },
          h.rank + ". " + (h.title || "(untitled)"))),
        el("div", { class: "meta" }, [(h.authors || []).slice(0, 6).join(", ") + ((h.authors || []).length > 6 ? " et al." : ""),
          h.year, h.source, h.id].filter(Boolean).join(" · ")),
        match ? el("div", { class: "match" }, match) : null,
        links(h.id, h.doi, h.url, [h.source])));
    }
    if (!hits.length) box.append(el("p", { class: "muted" }, "No results."));
    show("results");
  }

  async function openPaper(id) {
    status("");
    try {
      const p = await api("GET", "/api/papers/" + encodeURIComponent(id));
      const box = $("paper");
      box.replaceChildren(
        el("a", { href: "#", class: "back", onclick: (ev) => { ev.preventDefault(); show("results"); } }, "← results"),
        el("h2", { class: "paper-title" }, p.title || "(untitled)"),
        el("div", { class: "meta" }, (p.authors || []).join(", ")),
        el("div", { class: "meta" }, [p.year, p.published, "sources: " + (p.sources || []).join(", "), p.id].filter(Boolean).join(" · ")),
        (p.extra && p.extra.journal) ? el("div", { class: "meta" }, p.extra.journal) : null,
        links(p.id, p.doi, p.url, p.sources),
        (p.categories || []).length ? el("p", { class: "meta" }, "categories: " + p.categories.join(", ")) : null,
        el("p", { class: "abstract" }, p.abstract || "(no abstract)"));
      show("paper");
    } catch (e) { status(e.message, true); }
  }

  async function themes() {
    if (!$("q").value.trim()) { status("type a question to cluster its results", true); return; }
    status("clustering…");
    const body = { question: $("q").value.trim(), top: Math.max(parseInt($("k").value || "10", 10), 50) };
    try {
      const [c, png] = await Promise.all([api("POST", "/api/cluster", body), api("POST", "/api/cluster/map", body, "blob")]);
      const box = $("cluster");
      box.replaceChildren(el("a", { href: "#", class: "back", onclick: (ev) => { ev.preventDefault(); show("results"); } }, "← results"),
        el("p", { class: "muted" }, c.k_reason), el("img", { id: "map", alt: "map of the themes", src: URL.createObjectURL(png) }));
      for (const t of c.themes) {
        const list = el("ol", {});
        for (const p of t.papers) {
          list.append(el("li", {}, el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); openPaper(p.id); } }, p.title || p.id),
            p.year ? " (" + p.year + ")" : ""));
        }
        box.append(el("div", { class: "theme" }, el("h3", {}, t.theme + ". " + t.label + " — " + t.size + " papers"), list));
      }
      status("");
      show("cluster");
    } catch (e) { status(e.message, true); }
  }

  $("search-form").addEventListener("submit", search);
  $("themes").addEventListener("click", themes);
  $("home").addEventListener("click", (ev) => { ev.preventDefault(); renderHits(lastHits); });
  api("GET", "/api/health").then((h) => { $("db").textContent = h.database + " · " + h.model; })
    .catch((e) => status(e.message, true));
})();
