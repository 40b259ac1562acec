// The Errand dashboard: one page per hash route, each drawn from the JSON API under /api.
// Everything shown goes through esc() or textContent: task arguments and errors are user data.
"use strict";

const main = document.getElementById("main");
let readOnly = false;
let refresh = null; // redraws the current page on live events, throttled
let chart = null;

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function csrf() {
  const m = document.cookie.match(/(?:^|; )errand_csrf=([^;]+)/);
  return m ? m[1] : "";
}

async function api(path, options = {}) {
  const init = { headers: { "Accept": "application/json" } };
  if (options.method === "POST") {
    init.method = "POST";
    init.headers["X-CSRF-Token"] = csrf();
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
  }
  const r = await fetch(path, init);
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    throw new Error((json && json.error) || r.status + " " + r.statusText);
  }
  return json;
}

function toast(text, error) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.className = error ? "error" : "";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

async function act(label, path, body) {
  try {
    await api(path, { method: "POST", body });
    toast(label);
    route();
  } catch (e) {
    toast(e.message, true);
  }
}

// Every time on the page is UTC, as the API and the logs give it; millis only where asked.
function time(iso, millis) {
  if (!iso) return "-";
  const d = new Date(iso);
  const s = d.toISOString().replace("T", " ");
  return millis ? s : s.replace(/\.\d+Z$/, "Z");
}

function ago(iso, now) {
  if (!iso) return "-";
  const s = Math.max(0, Math.round(((now ? new Date(now) : new Date()) - new Date(iso)) / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d" + Math.floor((s % 86400) / 3600) + "h";
}

function state(s) {
  return `<span class="state ${esc(s)}">${esc(s)}</span>`;
}

function taskLink(id) {
  return `<a class="mono" href="#/tasks/${encodeURIComponent(id)}">${esc(id)}</a>`;
}

function button(label, cls, onclick) {
  if (readOnly) return "";
  const id = "b" + Math.random().toString(36).slice(2);
  setTimeout(() => { const b = document.getElementById(id); if (b) b.onclick = onclick; });
  return `<button id="${id}" class="${cls || ""}">${esc(label)}</button>`;
}

function tasksTable(tasks) {
  if (!tasks.length) return `<p class="muted">No tasks.</p>`;
  return `<table><tr><th>ID</th><th>Task</th><th>State</th><th>Queue</th><th>Worker</th><th class="num">Attempt</th><th>Updated</th><th>Error</th></tr>
    ${tasks.map(t => `<tr><td>${taskLink(t.id)}</td><td>${esc(t.name)}</td><td>${state(t.state)}</td><td>${esc(t.queue)}</td>
      <td>${esc(t.worker)}</td><td class="num">${esc(t.attempt)}</td><td>${time(t.updatedAt)}</td>
      <td class="bad">${esc(t.error ? t.error.type + ": " + (t.error.message || "") : "")}</td></tr>`).join("")}</table>`;
}

// ---- pages ----

async function overview(params) {
  const range = params.get("range") || "hour";
  const o = await api("/api/overview?range=" + range);
  readOnly = o.readOnly;
  const ready = o.queues.reduce((n, q) => n + q.ready, 0);
  const dead = o.queues.reduce((n, q) => n + q.dead, 0);
  const done = o.throughput.reduce((n, b) => n + b.succeeded, 0);
  const failed = o.throughput.reduce((n, b) => n + b.failed, 0);
  main.innerHTML = `<h1>Overview</h1>
    <div class="cards">
      <div class="card"><div class="n" id="c-succeeded">${done}</div><div class="l">succeeded, last ${range}</div></div>
      <div class="card"><div class="n bad" id="c-failed">${failed}</div><div class="l">failed, last ${range} (${done + failed ? Math.round((100 * failed) / (done + failed)) : 0}%)</div></div>
      <div class="card"><div class="n">${o.running.length}</div><div class="l">running now</div></div>
      <div class="card"><div class="n">${ready}</div><div class="l">ready in queues</div></div>
      <div class="card"><div class="n">${o.workers}</div><div class="l">workers${o.workersNotConsuming ? ` (<span class="bad">${o.workersNotConsuming} not consuming</span>)` : ""}</div></div>
      <div class="card"><div class="n ${dead ? "bad" : ""}">${dead}</div><div class="l">dead letters</div></div>
    </div>
    <h2>Throughput <a href="#/overview?range=hour">hour</a> · <a href="#/overview?range=day">day</a></h2>
    <div class="chart" id="chart"></div>
    <h2>Queues</h2>${queuesTable(o.queues)}
    <h2>Running now</h2>${o.running.length ? `<table><tr><th>Task</th><th>Name</th><th>Worker</th><th>Running for</th></tr>
      ${o.running.map(r => `<tr><td>${taskLink(r.taskId)}</td><td>${esc(r.name)}</td><td>${esc(r.worker)}</td><td>${ago(r.startedAt, o.now)}</td></tr>`).join("")}</table>` : `<p class="muted">Nothing running.</p>`}
    <h2>Latest failures</h2>${tasksTable(o.latestFailures)}`;
  drawChart(o.throughput);
}

function drawChart(series) {
  const el = document.getElementById("chart");
  if (!el || typeof uPlot === "undefined") return;
  const xs = series.map(b => new Date(b.at).getTime() / 1000);
  const data = [xs, series.map(b => b.succeeded), series.map(b => b.failed)];
  if (chart) chart.destroy();
  chart = new uPlot({
    width: Math.min(el.clientWidth || 900, 1350) - 16, height: 220,
    series: [{}, { label: "succeeded", stroke: "#15803d", width: 2 }, { label: "failed", stroke: "#b91c1c", width: 2 }],
    axes: [{ label: "UTC", values: (u, splits) => splits.map(v => new Date(v * 1000).toISOString().slice(11, 16)) }, { label: "tasks" }],
    // UTC like the rest of the page (uPlot draws local time unless told otherwise).
    tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
  }, data, el);
}

function queuesTable(queues) {
  if (!queues.length) return `<p class="muted">No queues yet.</p>`;
  return `<table><tr><th>Queue</th><th class="num">Ready</th><th>By priority</th><th class="num">Leased</th><th class="num">Delayed</th><th class="num">Dead</th><th class="num">Lag</th><th></th></tr>
    ${queues.map(q => `<tr><td>${esc(q.queue)}</td><td class="num">${q.ready}</td>
      <td class="mono">${esc(Object.entries(q.readyByPriority || {}).map(([p, n]) => p + ":" + n).join(" "))}</td>
      <td class="num">${q.leased}</td><td class="num">${q.delayed}</td><td class="num ${q.dead ? "bad" : ""}">${q.dead}</td>
      <td class="num">${q.lagSeconds}s</td>
      <td class="row-actions">${button("Purge", "danger", () => purge(q.queue))}</td></tr>`).join("")}</table>`;
}

function purge(queue) {
  const typed = prompt(`Purge deletes every ready and delayed message of "${queue}". Type the queue name to confirm:`);
  if (typed === queue) act(`purged ${queue}`, `/api/queues/${encodeURIComponent(queue)}/purge?confirm=${encodeURIComponent(queue)}`);
}

async function queues() {
  const o = await api("/api/overview");
  readOnly = o.readOnly;
  main.innerHTML = `<h1>Queues</h1>${queuesTable(o.queues)}`;
}

async function workers() {
  const ws = await api("/api/workers");
  main.innerHTML = `<h1>Workers</h1>${ws.length ? `<table><tr><th>Name</th><th>Host</th><th>PID</th><th>Queues</th><th>Concurrency</th><th>Running</th><th>Heartbeat</th><th class="num">Processed</th><th class="num">Failed</th><th>Health</th></tr>
    ${ws.map(w => `<tr><td>${esc(w.name)}</td><td>${esc(w.host)}</td><td class="num">${w.pid}</td><td>${esc(w.queues.join(", "))}</td>
      <td>${w.concurrency} (${esc(w.pool)})</td>
      <td>${w.running.map(r => `${taskLink(r.id)} ${esc(r.name)} <span class="muted">${ago(r.startedAt)}</span>`).join("<br>") || "-"}</td>
      <td>${w.heartbeatAgeSeconds}s ago</td><td class="num">${w.processed}</td><td class="num">${w.failed}</td>
      <td>${w.healthy ? `<span class="SUCCESS">ok</span>` : `<span class="bad">not consuming</span>`}</td></tr>`).join("")}</table>` : `<p class="muted">No live workers.</p>`}`;
}

async function tasks(params) {
  const q = new URLSearchParams();
  for (const k of ["id", "name", "state", "queue", "from", "to", "after", "parent"]) if (params.get(k)) q.set(k, params.get(k));
  const page = await api("/api/tasks?" + q);
  const v = k => esc(params.get(k) || "");
  const states = ["", "RECEIVED", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];
  main.innerHTML = `<h1>Tasks</h1>
    <form class="filters" id="search">
      <label>ID<input name="id" value="${v("id")}" size="38"></label>
      <label>Name<input name="name" value="${v("name")}"></label>
      <label>State<select name="state">${states.map(s => `<option ${s === (params.get("state") || "").toUpperCase() ? "selected" : ""}>${s}</option>`).join("")}</select></label>
      <label>Queue<input name="queue" value="${v("queue")}" size="10"></label>
      <label>From<input name="from" value="${v("from")}" placeholder="2026-01-01T00:00:00Z"></label>
      <label>To<input name="to" value="${v("to")}" placeholder="2026-01-02T00:00:00Z"></label>
      <button type="submit">Search</button>
    </form>
    ${tasksTable(page.tasks)}
    ${page.next ? `<p><a id="next" href="#/tasks?${esc(new URLSearchParams({ ...Object.fromEntries(q), after: page.next }))}">Next page →</a></p>` : ""}`;
  document.getElementById("search").onsubmit = e => {
    e.preventDefault();
    const f = new URLSearchParams();
    for (const [k, val] of new FormData(e.target)) if (val) f.set(k, val);
    location.hash = "#/tasks?" + f;
  };
}

async function task(id) {
  const d = await api("/api/tasks/" + encodeURIComponent(id));
  const t = d.task;
  const done = ["SUCCESS", "FAILURE", "REVOKED"].includes(t.state); // nothing left to revoke
  const progress = t.progress && t.progress.total ? Math.min(100, Math.round((100 * (t.progress.current || 0)) / t.progress.total)) : null;
  main.innerHTML = `<h1>Task <span class="mono">${esc(t.id)}</span></h1>
    ${done ? "" : `<p>${button("Revoke", "danger", () => confirm("Revoke task " + t.id + "? A queued task will not run; a running one is cancelled.") && act("revoke sent", `/api/tasks/${encodeURIComponent(t.id)}/revoke`))}</p>`}
    <dl>
      <dt>Name</dt><dd>${esc(t.name)}</dd><dt>State</dt><dd>${state(t.state)}${t.reason ? " (" + esc(t.reason) + ")" : ""}</dd>
      <dt>Queue</dt><dd>${esc(t.queue)}</dd><dt>Worker</dt><dd>${esc(t.worker)}</dd><dt>Attempt</dt><dd>${esc(t.attempt)}</dd>
      <dt>Parent</dt><dd>${t.parentId ? taskLink(t.parentId) : "-"}</dd>
      ${progress !== null ? `<dt>Progress</dt><dd><div class="progress"><div style="width:${progress}%"></div></div> ${progress}% <span class="mono">${esc(JSON.stringify(t.progress))}</span></dd>` : ""}
    </dl>
    <h2>Arguments</h2><pre>${esc(JSON.stringify(t.args ?? null, null, 2))}</pre>
    ${t.result !== undefined ? `<h2>Result</h2><pre>${esc(JSON.stringify(t.result, null, 2))}</pre>` : ""}
    ${t.error ? `<h2>Error</h2><p class="bad">${esc(t.error.type)}: ${esc(t.error.message)}</p><pre id="traceback">${esc(t.error.traceback || "(no traceback)")}</pre>` : ""}
    <h2>Timeline</h2><table id="timeline"><tr><th>When</th><th>What</th><th>Detail</th></tr>
      ${d.timeline.map(e => `<tr><td>${time(e.at, true)}</td><td><span class="step ${esc(e.what)}">${esc(e.what)}</span></td><td>${stepDetail(e)}</td></tr>`).join("")}</table>
    <p class="muted">Steps come from the event log while it keeps them; older ones are told from the stored status (marked “from status”).</p>
    <h2>Children</h2>${tasksTable(d.children)}`;
  return done; // a task still to finish redraws on events
}

// One timeline step's detail: errors are objects in the status and strings in events.
function stepDetail(e) {
  const parts = [];
  if (e.attempt) parts.push("attempt " + esc(e.attempt));
  if (e.worker) parts.push("on " + esc(e.worker));
  if (e.runtimeMs !== undefined) parts.push("ran " + esc(e.runtimeMs) + " ms");
  if (e.eta) parts.push("again at " + time(e.eta, true));
  if (e.reason) parts.push(esc(String(e.reason).toLowerCase().replace(/_/g, " ")));
  if (e.error) {
    const text = typeof e.error === "string" ? e.error : e.error.type + ": " + (e.error.message || "");
    parts.push(`<span class="bad">${esc(text)}</span>`);
  }
  if (e.source === "status") parts.push(`<span class="muted">(from status)</span>`);
  return parts.join(" ");
}

async function deadLetters(params) {
  const queue = params.get("queue") || "";
  const d = await api("/api/dead-letters?limit=100" + (queue ? "&queue=" + encodeURIComponent(queue) : ""));
  const qp = queue ? "?queue=" + encodeURIComponent(queue) : "";
  main.innerHTML = `<h1>Dead letters <span class="muted">(${d.total})</span></h1>
    <form class="inline" id="dlq"><label>Queue<input name="queue" value="${esc(queue)}"></label><button type="submit">Filter</button>
      ${button("Re-drive all" + (queue ? " in " + queue : ""), "", () => confirm("Re-drive every dead letter" + (queue ? " of " + queue : "") + "?") && act("re-driven", "/api/dead-letters/redrive" + qp))}
      ${button("Discard all" + (queue ? " in " + queue : ""), "danger", () => confirm("Discard every dead letter" + (queue ? " of " + queue : "") + "?") && act("discarded", "/api/dead-letters/discard" + qp))}</form>
    ${d.deadLetters.length ? `<table><tr><th>ID</th><th>Task</th><th>Queue</th><th>Reason</th><th>Attempts</th><th>Failed</th><th>Error</th><th></th></tr>
    ${d.deadLetters.map(x => `<tr><td>${taskLink(x.id)}</td><td>${esc(x.taskName || "?")}</td><td>${esc(x.queue)}</td>
      <td class="bad">${esc(x.reason)}</td><td class="num">${x.attempts}</td><td>${time(x.failedAt)}</td>
      <td>${esc(x.error ? x.error.type + ": " + (x.error.message || "") : "")}</td>
      <td class="row-actions">${button("Re-drive", "", () => act("re-driven " + x.id, `/api/dead-letters/${encodeURIComponent(x.id)}/redrive`))}${button("Discard", "danger", () => act("discarded " + x.id, `/api/dead-letters/${encodeURIComponent(x.id)}/discard`))}</td></tr>`).join("")}</table>` : `<p class="muted">No dead letters.</p>`}`;
  document.getElementById("dlq").onsubmit = e => {
    e.preventDefault();
    const q = new FormData(e.target).get("queue");
    location.hash = "#/dead-letters" + (q ? "?queue=" + encodeURIComponent(q) : "");
  };
}

async function schedules() {
  const list = await api("/api/schedules");
  const path = (n, verb) => `/api/schedules/${encodeURIComponent(n)}/${verb}`;
  main.innerHTML = `<h1>Schedules</h1>
    ${list.length ? `<table><tr><th>Name</th><th>Task</th><th>When</th><th>Zone</th><th>Status</th><th>Next</th><th>Last</th><th>Runs</th><th></th></tr>
    ${list.map(s => `<tr data-schedule="${esc(s.name)}"><td>${esc(s.name)}</td><td>${esc(s.task)}</td><td class="mono">${esc(s.trigger)}</td><td>${esc(s.zone)}</td>
      <td>${!s.enabled ? `<span class="warn">paused</span>` : s.state.nextFire ? `<span class="SUCCESS">active</span>` : `<span class="muted">finished</span>`}</td>
      <td>${time(s.state.nextFire)}</td><td>${time(s.state.lastTick)}</td><td class="num">${s.state.totalRuns}</td>
      <td class="row-actions">${s.enabled ? button("Pause", "", () => act("paused " + s.name, path(s.name, "pause"))) : button("Resume", "", () => act("resumed " + s.name, path(s.name, "resume")))}
        ${button("Run now", "", () => act("sent " + s.name, path(s.name, "run")))}
        ${button("Edit", "", () => editSchedule(s))}
        ${button("Delete", "danger", () => confirm("Delete schedule " + s.name + "?") && act("deleted " + s.name, path(s.name, "delete")))}</td></tr>`).join("")}</table>` : `<p class="muted">No schedules.</p>`}
    ${readOnly ? "" : `<h2>New schedule</h2>
    <form class="inline" id="new-schedule">
      <label>Name<input name="name" required></label><label>Task<input name="task" required></label>
      <label>When<input name="trigger" required placeholder="0 2 * * *  |  every PT15M  |  at 2026-12-24T17:00:00Z" size="34"></label>
      <label>Zone<input name="zone" value="UTC" size="12"></label><label>Queue<input name="queue" size="10"></label>
      <label>Arguments (JSON)<input name="args" placeholder='["bob"] or {"to": "ada"}'></label>
      <label>Missed runs<select name="missedRuns"><option>skip</option><option>run-once</option><option>catch-up</option></select></label>
      <button type="submit">Create</button></form>`}`;
  const form = document.getElementById("new-schedule");
  if (form) form.onsubmit = e => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    const body = { name: f.name, task: f.task, trigger: f.trigger, zone: f.zone || "UTC", missedRuns: f.missedRuns };
    if (f.queue) body.queue = f.queue;
    if (f.args) {
      try {
        const a = JSON.parse(f.args);
        if (Array.isArray(a)) body.args = a; else body.kwargs = a;
      } catch (err) { toast("Arguments are not valid JSON", true); return; }
    }
    act("created " + f.name, "/api/schedules", body);
  };
}

function editSchedule(s) {
  const trigger = prompt(`When should "${s.name}" fire? (cron, "every PT15M" or "at <instant>")`, s.trigger);
  if (trigger && trigger !== s.trigger) act("edited " + s.name, `/api/schedules/${encodeURIComponent(s.name)}`, { trigger });
}

// ---- routing and live updates ----

async function route() {
  const [path, query] = (location.hash.slice(1) || "/overview").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const page = parts[0] || "overview";
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.page === page));
  const pages = { overview, queues, workers, "dead-letters": deadLetters, schedules };
  try {
    let finished = false;
    if (page === "tasks" && parts[1]) finished = await task(decodeURIComponent(parts.slice(1).join("/")));
    else if (page === "tasks") await tasks(params);
    else await (pages[page] || overview)(params);
    const live = page === "overview" || page === "workers" || page === "queues" || (page === "tasks" && parts[1] && !finished);
    refresh = live ? () => route() : null;
  } catch (e) {
    main.innerHTML = `<h1>Error</h1><p class="bad">${esc(e.message)}</p>`;
  }
}

function live() {
  const dot = document.getElementById("live");
  const source = new EventSource("/api/events/stream");
  let pending = false;
  source.onopen = () => dot.classList.add("on");
  source.onerror = () => dot.classList.remove("on");
  const onEvent = () => {
    if (!refresh || pending) return;
    pending = true;
    setTimeout(() => { pending = false; if (refresh) refresh(); }, 2000);
  };
  for (const type of ["task-sent", "task-received", "task-started", "task-progress", "task-succeeded", "task-failed", "task-retried", "task-revoked", "worker-online", "worker-offline"]) {
    source.addEventListener(type, onEvent);
  }
}

window.addEventListener("hashchange", route);
api("/api/overview").then(o => { readOnly = o.readOnly; }).catch(() => {}).finally(route);
live();
