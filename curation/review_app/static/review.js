// carid review page: a keyboard-first grid that saves every decision to data/curation/decisions.csv at once.
"use strict";
(() => {
  const REASONS = ["interior", "close-up", "document", "other-model", "not-a-car"];
  const CLASSES = ["swift", "wagonr"];
  const CHUNK = 300;  // tiles added to the page at a time (more as the person scrolls or moves down)
  const $ = (id) => document.getElementById(id);
  const grid = $("grid");
  const S = {
    ready: false, items: [], view: [], tiles: [], shaTiles: new Map(), clusterSize: new Map(), rendered: 0,
    sel: 0, decisions: new Map(), etag: "", since: 0, undo: [], queue: Promise.resolve(), pending: 0,
    writes: 0, writeMs: [], total: 0, reviewSet: new Set(), mode: "", filter: "", audit: false,
  };
  window.caridReview = S;  // read by tests and the benchmark

  function setStatus(text, error = false) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("error", error);
  }

  async function getJSON(url, headers = {}) {
    const r = await fetch(url, {headers, cache: "no-cache"});
    if (r.status === 304) return null;
    if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return {etag: r.headers.get("ETag") || "", body: await r.json()};
  }

  // ---- decisions ------------------------------------------------------------------------------------------
  async function fetchDecisions(force) {
    const got = await getJSON("/api/decisions", force || !S.etag ? {} : {"If-None-Match": S.etag});
    if (got === null) return;
    if (got.body.error) { setStatus(got.body.error, true); return; }
    S.decisions = new Map(Object.entries(got.body.decisions));
    S.etag = got.etag;
    for (const el of S.tiles) decorate(el);
    progress();
  }

  function poll() {
    if (S.ready && S.pending === 0 && document.visibilityState === "visible") {
      fetchDecisions(false).catch((e) => setStatus(`cannot reach the review server: ${e.message}`, true));
    }
  }

  function describe(d) {
    if (!d) return "";
    if (d.decision === "reject") return `rejected${d.reason ? ": " + d.reason : ""}`;
    if (d.decision === "relabel") return `relabelled ${d.label}`;
    return `accepted${d.label ? " as " + d.label : ""}`;
  }

  function decorate(el) {
    const d = S.decisions.get(el.dataset.sha);
    el.classList.remove("d-accept", "d-reject", "d-relabel");
    if (d) el.classList.add("d-" + d.decision);
    el.querySelector(".dec").textContent = describe(d);
  }

  function decorateSha(sha) { for (const el of S.shaTiles.get(sha) || []) decorate(el); }

  function progress() {
    let n = 0;
    for (const sha of S.decisions.keys()) if (S.reviewSet.has(sha)) n++;
    $("reviewed").textContent = n.toLocaleString("en");
    $("total").textContent = S.total.toLocaleString("en");
    $("since").textContent = String(S.since);
  }

  // Requests go out one at a time, in key-press order, so an undo always follows the decision it takes back.
  function send(makeBody, sha, onFail) {
    S.pending++;
    const t0 = performance.now();  // the key press: what the person waits for is key -> saved in the file
    S.queue = S.queue.then(async () => {
      try {
        const r = await fetch("/api/decide", {method: "POST", headers: {"Content-Type": "application/json"},
                                              body: JSON.stringify({...makeBody(), seen: S.etag})});
        const data = await r.json().catch(() => ({error: `${r.status} ${r.statusText}`}));
        if (!r.ok) throw new Error(data.error || r.statusText);
        if (data.decision) S.decisions.set(sha, data.decision); else S.decisions.delete(sha);
        if (data.in_sync) S.etag = `"${data.version}"`;  // else the next poll fetches what others wrote
        S.writeMs.push(performance.now() - t0);
        S.writes++;
        setStatus(`saved ${sha.slice(0, 8)}`);
        return data.decision;
      } catch (err) {
        setStatus(`not saved: ${err.message}`, true);
        if (onFail) onFail();
        await fetchDecisions(true).catch(() => {});
        return undefined;
      } finally {
        S.pending--;
        decorateSha(sha);
        progress();
      }
    });
    return S.queue;
  }

  function decide(choice) {
    const it = S.view[S.sel];
    if (!it) return;
    const label = choice.label || "";
    if (choice.decision === "accept" && !CLASSES.includes(it.label)) {
      setStatus(`this photo's title says '${it.label}': press w (WagonR) or s (Swift) to accept it with a label`,
                true);
      return;
    }
    const sha = it.sha256;
    const before = S.decisions.get(sha) || null;
    const after = {decision: choice.decision, label, reason: choice.reason || "", note: before ? before.note : ""};
    const entry = {sha, before, after};
    S.decisions.set(sha, after);
    S.undo.push(entry);
    S.since++;
    decorateSha(sha);
    progress();
    send(() => ({sha256: sha, decision: after}), sha, () => {
      S.undo.splice(S.undo.indexOf(entry), 1);
      S.since--;
    }).then((saved) => { if (saved) entry.after = saved; });
    select(S.sel + 1);
  }

  function undo() {
    const last = S.undo.pop();
    if (!last) { setStatus("nothing to undo"); return; }
    if (last.before) S.decisions.set(last.sha, last.before); else S.decisions.delete(last.sha);
    S.since--;
    decorateSha(last.sha);
    progress();
    // Only if the file still holds what this page wrote: a change made meanwhile elsewhere is never undone.
    send(() => ({sha256: last.sha, decision: last.before, expect: last.after}), last.sha, () => { S.since++; });
    const k = S.view.findIndex((i) => i.sha256 === last.sha);
    if (k >= 0) select(k);
  }

  // ---- the grid -------------------------------------------------------------------------------------------
  function line(cls, text) {
    const el = document.createElement("div");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  function tile(it, k) {
    const el = document.createElement("div");
    el.className = "tile";
    el.dataset.k = String(k);
    el.dataset.sha = it.sha256;
    el.title = `${it.site}/${it.region} listing ${it.listing_id}\n${it.auto_detail}\n${it.sha256}`;
    const img = document.createElement("img");
    img.loading = "lazy";  // set before src, or the browser fetches at once
    img.decoding = "async";
    img.width = 160;
    img.height = 120;
    img.alt = "";
    img.onerror = () => el.classList.add("broken");
    img.src = "/thumb/" + it.sha256;
    el.appendChild(img);
    el.appendChild(line("lab", `${it.label} · ${it.region} · #${it.rank}`));
    el.appendChild(line(`auto ${it.auto_verdict}`, `auto: ${it.auto_verdict}${it.auto_reason ? " " + it.auto_reason : ""}`));
    if (S.audit) el.appendChild(line("sugg", it.suggestion ? `audit: ${it.suggestion}${it.suggestion_reason ? " (" + it.suggestion_reason + ")" : ""}` : "audit: -"));
    if (S.audit) for (const [cls, near] of [["swift", it.near_swift], ["wagonr", it.near_wagonr]]) {
      if (!near) continue;
      const row = line("near", cls);  // the nearest accepted photos of each class: why the audit thinks so
      for (const sha of near.split(" ")) {
        const t = document.createElement("img");
        t.loading = "lazy";
        t.width = 48;
        t.height = 36;
        t.alt = "";
        t.title = sha.slice(0, 12);
        t.src = "/thumb/" + sha;
        row.appendChild(t);
      }
      el.appendChild(row);
    }
    el.appendChild(line("dec", ""));
    el.addEventListener("click", () => select(Number(el.dataset.k)));
    decorate(el);
    return el;
  }

  function renderMore(n) {
    let end = Math.min(S.view.length, S.rendered + n);
    while (end > 0 && end < S.view.length && S.view[end].cluster_id === S.view[end - 1].cluster_id) end++;
    const frag = document.createDocumentFragment();
    let box = null;
    for (let k = S.rendered; k < end; k++) {
      const it = S.view[k];
      const el = tile(it, k);
      S.tiles.push(el);
      if (!S.shaTiles.has(it.sha256)) S.shaTiles.set(it.sha256, []);
      S.shaTiles.get(it.sha256).push(el);
      if (S.clusterSize.get(it.cluster_id) > 1) {
        if (!box || box.dataset.cluster !== it.cluster_id) {
          box = document.createElement("div");
          box.className = "cluster";
          box.dataset.cluster = it.cluster_id;
          box.title = `duplicate cluster ${it.cluster_id}`;
          frag.appendChild(box);
        }
        box.appendChild(el);
      } else {
        box = null;
        frag.appendChild(el);
      }
    }
    grid.appendChild(frag);
    S.rendered = end;
  }

  function resetView() {
    grid.textContent = "";
    S.tiles = [];
    S.shaTiles = new Map();
    S.rendered = 0;
    renderMore(Math.max(CHUNK, S.sel + CHUNK));
    $("shown").textContent = S.view.length === S.items.length ? "" :
      `${S.view.length.toLocaleString("en")} of ${S.items.length.toLocaleString("en")} shown`;
  }

  let hashTimer = 0;
  function select(k, scroll = true) {
    if (k < 0 || k >= S.view.length) return;
    while (k >= S.rendered - 1 && S.rendered < S.view.length) renderMore(CHUNK);
    if (S.tiles[S.sel]) S.tiles[S.sel].classList.remove("sel");
    S.sel = k;
    const el = S.tiles[k];
    el.classList.add("sel");
    if (scroll) el.scrollIntoView({block: "nearest"});
    clearTimeout(hashTimer);
    hashTimer = setTimeout(keepPlace, 150);
  }

  // The place and the filter live in the URL's #fragment, so a reload comes back to them.
  function keepPlace() {
    const it = S.view[S.sel];
    if (!it) return;
    const p = new URLSearchParams();
    p.set("rank", String(it.rank));
    if (S.filter) p.set("filter", S.filter);
    history.replaceState(null, "", "#" + p.toString());
  }
  window.addEventListener("pagehide", keepPlace);

  // Up / down: the nearest tile by x in the next row above or below (rows are uneven around cluster boxes).
  function moveVertical(dir) {
    const cur = S.tiles[S.sel];
    if (!cur) return;
    if (dir > 0 && S.rendered < S.view.length && S.sel + 60 >= S.rendered) renderMore(CHUNK);
    const r = cur.getBoundingClientRect();
    const half = r.height / 2;
    const cx = r.left + r.width / 2;
    const seen = [];
    for (let k = S.sel + dir, n = 0; k >= 0 && k < S.rendered && n < 400; k += dir, n++) {
      const t = S.tiles[k].getBoundingClientRect();
      if (dir > 0 ? t.top > r.top + half : t.top < r.top - half) seen.push([k, t]);
    }
    if (!seen.length) return;
    const row = dir > 0 ? Math.min(...seen.map(([, t]) => t.top)) : Math.max(...seen.map(([, t]) => t.top));
    let best = -1;
    let bestDx = Infinity;
    for (const [k, t] of seen) {
      const dx = Math.abs(t.left + t.width / 2 - cx);
      if (Math.abs(t.top - row) < half && dx < bestDx) { best = k; bestDx = dx; }
    }
    if (best >= 0) select(best);
  }

  // ---- filter, reasons, full photo ------------------------------------------------------------------------
  function matcher(text) {
    const terms = text.toLowerCase().split(/\s+/).filter(Boolean).map((t) => {
      const i = t.indexOf(":");
      return i > 0 ? [t.slice(0, i), t.slice(i + 1)] : ["", t];
    });
    return (it) => terms.every(([key, val]) => {
      const d = S.decisions.get(it.sha256);
      const fields = {
        label: [it.label, d && d.label], region: [it.region], site: [it.site], cluster: [it.cluster_id],
        reason: [it.auto_reason, d && d.reason, it.suggestion, it.suggestion_reason],
        verdict: [it.auto_verdict], decision: [d ? d.decision : "none"], sha: [it.sha256.slice(0, val.length)],
        listing: [it.listing_id],
      };
      const where = key ? fields[key] : Object.values(fields).flat();
      return (where || []).some((v) => v && String(v).toLowerCase().includes(val));
    });
  }

  function applyFilter(text) {
    const current = S.view[S.sel];
    S.filter = text.trim();
    S.view = S.filter ? S.items.filter(matcher(S.filter)) : S.items;
    const k = current ? S.view.indexOf(current) : -1;
    S.sel = k >= 0 ? k : 0;
    resetView();
    if (S.view.length) select(S.sel); else setStatus(`nothing matches '${S.filter}'`, true);
  }

  function openFilter() {
    S.mode = "filter";
    $("filterform").hidden = false;
    $("filter").value = S.filter;
    $("filter").focus();
    $("filter").select();
  }

  function clearFilter() {
    S.mode = "";
    $("filter").blur();
    $("filterform").hidden = true;
    applyFilter("");
  }

  $("filter").addEventListener("focus", () => { S.mode = "filter"; });  // typing there never decides

  $("filterform").addEventListener("submit", (e) => {
    e.preventDefault();
    S.mode = "";
    $("filter").blur();
    applyFilter($("filter").value);
    $("filterform").hidden = !S.filter;
  });

  function openZoom() {
    const it = S.view[S.sel];
    if (!it) return;
    S.mode = "zoom";
    $("zoomimg").src = "/photo/" + it.sha256;
    $("zoominfo").textContent = `${it.label} · ${it.site}/${it.region} listing ${it.listing_id} · auto: ` +
      `${it.auto_verdict} ${it.auto_reason} ${it.auto_detail} · ${it.sha256}`;
    $("zoom").hidden = false;
  }

  function closeZoom() { S.mode = ""; $("zoom").hidden = true; $("zoomimg").removeAttribute("src"); }

  document.addEventListener("keydown", (e) => {
    if (!S.ready || e.ctrlKey || e.metaKey || e.altKey) return;
    if (S.mode === "filter") {
      if (e.key === "Escape") { e.preventDefault(); clearFilter(); }
      return;
    }
    if (S.mode === "reasons") {
      e.preventDefault();
      const n = "12345".indexOf(e.key);
      if (n >= 0 || e.key === "Escape" || e.key === "r") { S.mode = ""; $("reasons").hidden = true; }
      if (n >= 0) decide({decision: "reject", reason: REASONS[n]});
      return;
    }
    if (S.mode === "zoom") {
      if (e.key === "Escape" || e.key === "Enter") { e.preventDefault(); closeZoom(); }
      return;
    }
    switch (e.key) {
      case "ArrowRight": select(S.sel + 1); break;
      case "ArrowLeft": select(S.sel - 1); break;
      case "ArrowDown": moveVertical(1); break;
      case "ArrowUp": moveVertical(-1); break;
      case "Home": select(0); break;
      case "End": select(S.view.length - 1); break;
      case "a": decide({decision: "accept"}); break;
      case "r": S.mode = "reasons"; $("reasons").hidden = false; break;
      case "w": decide({decision: "relabel", label: "wagonr"}); break;
      case "s": decide({decision: "relabel", label: "swift"}); break;
      case "u": undo(); break;
      case "/": openFilter(); break;
      case "Enter": openZoom(); break;
      case "Escape": if (S.filter) clearFilter(); break;
      default: return;
    }
    e.preventDefault();
  });

  // ---- start ----------------------------------------------------------------------------------------------
  async function start() {
    const [review] = await Promise.all([getJSON("/api/review"), fetchDecisions(true)]);
    const cols = review.body.columns;
    S.items = review.body.rows.map((row) => Object.fromEntries(cols.map((c, i) => [c, row[i]])));
    S.audit = review.body.audit;
    S.total = review.body.total;
    S.reviewSet = new Set(S.items.map((i) => i.sha256));
    for (const it of S.items) S.clusterSize.set(it.cluster_id, (S.clusterSize.get(it.cluster_id) || 0) + 1);
    const saved = new URLSearchParams(location.hash.slice(1));
    S.filter = saved.get("filter") || "";
    S.view = S.filter ? S.items.filter(matcher(S.filter)) : S.items;
    const rank = Number(saved.get("rank") || 0);
    S.sel = Math.max(0, S.view.findIndex((i) => i.rank === rank));
    if (S.filter) { $("filterform").hidden = false; $("filter").value = S.filter; }
    resetView();
    progress();
    S.ready = true;
    if (S.view.length) select(S.sel, S.sel > 0);
    if (review.body.problems.length) setStatus(review.body.problems[0], true);
    document.body.dataset.ready = "1";
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && S.rendered < S.view.length) renderMore(CHUNK);
    }, {rootMargin: "1200px"}).observe($("sentinel"));
    setInterval(poll, 3000);
    window.addEventListener("focus", poll);
  }

  start().catch((e) => setStatus(`cannot load the review: ${e.message}`, true));
})();
