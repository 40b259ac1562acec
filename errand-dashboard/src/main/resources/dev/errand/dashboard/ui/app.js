// The Errand dashboard: one page per hash route, each drawn from the JSON API under /api with el()
// (dom.js), which puts every value in as text.
"use strict";

const main = document.getElementById("main");
const OVERVIEW_QUEUES = 10; // the busiest; the queues page has them all
const OVERVIEW_RUNNING = 20;
const UNCONSUMED_NAMED = 10; // queues named in the note above the table; the table has them all
let readOnly = true; // until the server says otherwise: no action buttons on a guess
let refresh = null; // redraws the current page on live events, throttled
let chart = null;
let shown = null; // the route on the screen and when its data was read
const backend = { up: true, since: null, error: null };
let streaming = false;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function csrf() {
  const m = document.cookie.match(/(?:^|; )errand_csrf=([0-9a-f]+)/);
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
  if (r.status === 401) {
    location.assign("/login"); // the session ended
    throw new ApiError(401, "please log in again");
  }
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (r.status === 503) checkHealth(); // the backend, or only this request? The probe knows.
  if (!r.ok) throw new ApiError(r.status, (json && json.error) || r.status + " " + r.statusText);
  return json;
}

async function checkHealth() {
  try {
    const r = await fetch("/api/health", { headers: { "Accept": "application/json" } });
    backendState(await r.json());
  } catch (e) {
    // the live stream tells when it reconnects
  }
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

function show(...nodes) {
  main.replaceChildren(...nodes.flat(Infinity).filter(n => n !== null && n !== undefined && n !== false));
}

function state(s) {
  return el("span", { class: "state " + s }, s);
}

function taskLink(id) {
  return el("a", { class: "mono", href: "#/tasks/" + encodeURIComponent(id) }, id);
}

function button(label, cls, onclick) {
  return readOnly ? null : el("button", { class: cls, onclick }, label);
}

function errorText(error) {
  if (!error) return "";
  return typeof error === "string" ? error : error.type + ": " + (error.message || "");
}

function tasksTable(tasks) {
  if (!tasks.length) return muted("No tasks.");
  return table([["ID"], ["Task"], ["State"], ["Queue"], ["Worker"], ["Attempt", "num"], ["Updated"], ["Error"]],
    tasks.map(t => el("tr", null, td(taskLink(t.id)), td(t.name), td(state(t.state)), td(t.queue), td(t.worker),
      td(t.attempt, "num"), td(time(t.updatedAt)), td(errorText(t.error), "bad"))));
}

// ---- pages ----

async function overview(params) {
  const range = params.get("range") || "hour";
  const o = await api("/api/overview" + query({ range })); // the API accepts hour or day only
  const ready = o.queues.reduce((n, q) => n + q.ready, 0);
  const dead = o.queues.reduce((n, q) => n + q.dead, 0);
  const done = o.throughput.reduce((n, b) => n + b.succeeded, 0);
  const failed = o.throughput.reduce((n, b) => n + b.failed, 0);
  const card = (n, label, id, cls) => el("div", { class: "card" }, el("div", { class: "n " + (cls || ""), id }, n), el("div", { class: "l" }, label));
  const busiest = [...o.queues].sort(busier).slice(0, OVERVIEW_QUEUES);
  show(
    el("h1", null, "Overview"),
    el("div", { class: "cards" },
      card(done, "succeeded, last " + range, "c-succeeded"),
      card(failed, `failed, last ${range} (${done + failed ? Math.round((100 * failed) / (done + failed)) : 0}%)`, "c-failed", "bad"),
      card(o.running.length, "running now"),
      card(ready, "ready in queues"),
      card(o.workers, ["workers", o.workersNotConsuming ? [" (", el("span", { class: "bad" }, o.workersNotConsuming + " not consuming"), ")"] : null]),
      card(dead, "dead letters", null, dead ? "bad" : "")),
    el("h2", null, "Throughput ", el("a", { href: "#/overview?range=hour" }, "hour"), " · ", el("a", { href: "#/overview?range=day" }, "day")),
    el("div", { class: "chart", id: "chart" }),
    el("h2", null, o.queues.length > busiest.length ? `Busiest queues (${busiest.length} of ${o.queues.length})` : "Queues"),
    unconsumedNote(o.queues), // the busiest may leave out a queue nobody consumes
    queuesTable(busiest),
    o.queues.length > busiest.length ? el("p", null, el("a", { href: "#/queues", id: "all-queues" }, `All ${o.queues.length} queues →`)) : null,
    el("h2", null, "Running now"),
    o.running.length ? table([["Task"], ["Name"], ["Worker"], ["Running for"]],
      o.running.slice(0, OVERVIEW_RUNNING).map(r => el("tr", null, td(taskLink(r.taskId)), td(r.name), td(r.worker), td(ago(r.startedAt, o.now)))))
      : muted("Nothing running."),
    o.running.length > OVERVIEW_RUNNING ? el("p", null, el("a", { href: "#/workers" }, `and ${o.running.length - OVERVIEW_RUNNING} more: see the workers →`)) : null,
    el("h2", null, "Latest failures"),
    tasksTable(o.latestFailures));
  drawChart(o.throughput);
}

// Most work waiting or in hand first, then most dead letters, then the longest lag.
function busier(a, b) {
  const load = q => q.ready + q.leased + q.delayed;
  return load(b) - load(a) || b.dead - a.dead || b.lagSeconds - a.lagSeconds || natural(a.queue, b.queue);
}

function drawChart(series) {
  const box = document.getElementById("chart");
  if (!box || typeof uPlot === "undefined") return;
  const xs = series.map(b => new Date(b.at).getTime() / 1000);
  const data = [xs, series.map(b => b.succeeded), series.map(b => b.failed)];
  if (chart) chart.destroy();
  chart = new uPlot({
    width: Math.max(200, Math.min(box.clientWidth || 900, 1350) - 16), height: 220,
    series: [{}, { label: "succeeded", stroke: "#15803d", width: 2 }, { label: "failed", stroke: "#b91c1c", width: 2 }],
    axes: [{ label: "UTC", values: (u, splits) => splits.map(v => new Date(v * 1000).toISOString().slice(11, 16)) }, { label: "tasks" }],
    // UTC like the rest of the page (uPlot draws local time unless told otherwise).
    tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
  }, data, box);
}

function queuesTable(queues) {
  if (!queues.length) return muted("No queues yet.");
  return table([["Queue"], ["Ready", "num"], ["By priority"], ["Leased", "num"], ["Delayed", "num"], ["Limited", "num"], ["Dead", "num"], ["Lag", "num"], ["Consumers", "num"], [""]],
    queues.map(q => el("tr", { class: q.paused ? "paused" : null },
      el("td", null, q.queue,
        q.shards > 1 ? el("span", { class: "badge info", title: "spread over " + q.shards + " shards (errand queue shards): FIFO holds within each shard" }, q.shards + " shards") : null,
        q.paused ? el("span", { class: "badge", title: "paused: workers claim nothing from it until it is resumed" }, "paused") : null),
      td(q.ready, "num"),
      td(Object.entries(q.readyByPriority || {}).map(([p, n]) => p + ":" + n).join(" "), "mono"),
      td(q.leased, "num"), td(q.delayed, "num"), td(q.limited || 0, "num"), td(q.dead, "num" + (q.dead ? " bad" : "")), td(q.lagSeconds + "s", "num"),
      q.unconsumed
        ? el("td", { class: "num bad", title: "ready messages and no live worker consuming this queue: they wait" }, q.consumers, " ⚠")
        : td(q.consumers, "num"),
      el("td", { class: "row-actions" },
        q.paused
          ? button("Resume", "", () => act(`resumed ${q.queue}`, `/api/queues/${encodeURIComponent(q.queue)}/resume`))
          : button("Pause", "", () => act(`paused ${q.queue}`, `/api/queues/${encodeURIComponent(q.queue)}/pause`)),
        button("Purge", "danger", () => purge(q.queue))))));
}

// The queues whose ready messages nothing will run: no live worker consumes them (a task defined
// on "email" and a worker started on "default" only is the usual reason a task "never runs").
function unconsumedNote(queues) {
  const names = queues.filter(q => q.unconsumed).map(q => q.queue).sort(natural);
  if (!names.length) return null;
  const one = names.length === 1;
  const shown = names.slice(0, UNCONSUMED_NAMED);
  return el("p", { class: "bad", id: "unconsumed", role: "status" },
    `${names.length} ${one ? "queue has" : "queues have"} ready messages and no live worker consuming ${one ? "it" : "them"}: `,
    shown.join(", ") + (names.length > shown.length ? ", ..." : ""),
    `. They wait until a worker consumes ${one ? "it" : "them"} (errand worker -Q ${shown.join(",")}).`);
}

function purge(queue) {
  const typed = prompt(`Purge deletes every ready and delayed message of "${queue}". Type the queue name to confirm:`);
  if (typed === queue) act(`purged ${queue}`, `/api/queues/${encodeURIComponent(queue)}/purge` + query({ confirm: queue }));
}

async function queues(params) {
  const o = await api("/api/overview");
  const filter = (params.get("q") || "").toLowerCase();
  const list = o.queues.filter(q => q.queue.toLowerCase().includes(filter)).sort((a, b) => natural(a.queue, b.queue));
  const form = el("form", { class: "inline", id: "queue-filter", onsubmit: e => {
    e.preventDefault();
    location.hash = "#/queues" + query({ q: new FormData(e.target).get("q") });
  } }, el("label", null, "Name contains", el("input", { name: "q", value: params.get("q") || "" })), el("button", { type: "submit" }, "Filter"));
  const limits = await api("/api/limits");
  show(el("h1", null, "Queues ", el("span", { class: "muted" }, filter ? `(${list.length} of ${o.queues.length})` : `(${o.queues.length})`)),
    unconsumedNote(o.queues), form, queuesTable(list),
    el("h2", null, "Limits in use"), limitsTable(limits.filter(l => l.queue.toLowerCase().includes(filter))));
}

// The rate and concurrency keys in use: each key's limit, its tasks running and waiting, and when
// its rate lets the next start.
function limitsTable(limits) {
  if (!limits.length) return muted("No rate or concurrency limit is in use.");
  const now = Date.now();
  return table([["Queue"], ["Key"], ["Rate"], ["Running", "num"], ["Waiting", "num"], ["Next start"]],
    limits.map(l => el("tr", null, td(l.queue), td(l.key, "mono"),
      td(l.rate ? l.rate + (l.burst > 1 ? " burst " + l.burst : "") : "-"),
      td(l.concurrency ? `${l.running}/${l.concurrency}` : l.running, "num"),
      td(l.waiting, "num"),
      td(!l.nextStartAt ? "-" : new Date(l.nextStartAt).getTime() <= now ? "now"
        : "in " + ((new Date(l.nextStartAt).getTime() - now) / 1000).toFixed(1) + "s"))), { id: "limits" });
}

async function workers() {
  const ws = await api("/api/workers");
  ws.sort((a, b) => natural(a.name, b.name));
  show(el("h1", null, "Workers"), ws.length
    ? table([["Name"], ["Host"], ["PID", "num"], ["Queues"], ["Concurrency"], ["Running"], ["Heartbeat"], ["Processed", "num"], ["Failed", "num"], ["Health"]],
      ws.map(w => el("tr", null, td(w.name), td(w.host), td(w.pid, "num"), td(w.queues.join(", ")),
        td(`${w.concurrency} (${w.pool})`),
        td(w.running.length ? w.running.map(r => el("div", null, taskLink(r.id), " ", r.name, " ", el("span", { class: "muted" }, ago(r.startedAt)))) : "-"),
        td(w.heartbeatAgeSeconds + "s ago"), td(w.processed, "num"), td(w.failed, "num"),
        td(w.healthy ? el("span", { class: "SUCCESS" }, "ok")
          : [el("span", { class: "bad" }, "not consuming"), w.problem ? el("div", { class: "muted" }, w.problem) : null]))))
    : muted("No live workers."));
}

async function tasks(params) {
  const q = {};
  for (const k of ["id", "name", "state", "queue", "from", "to", "after", "parent"]) q[k] = params.get(k);
  const page = await api("/api/tasks" + query(q));
  const input = (name, attrs) => el("input", { name, value: params.get(name) || "", ...attrs });
  const states = ["", "RECEIVED", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];
  const chosen = (params.get("state") || "").toUpperCase();
  const form = el("form", { class: "filters", id: "search", onsubmit: e => {
    e.preventDefault();
    location.hash = "#/tasks" + query(Object.fromEntries(new FormData(e.target)));
  } },
  el("label", null, "ID", input("id", { size: 38 })),
  el("label", null, "Name", input("name")),
  el("label", null, "State", el("select", { name: "state" }, states.map(s => el("option", { selected: s === chosen }, s)))),
  el("label", null, "Queue", input("queue", { size: 10 })),
  el("label", null, "From", input("from", { placeholder: "2026-01-01T00:00:00Z" })),
  el("label", null, "To", input("to", { placeholder: "2026-01-02T00:00:00Z" })),
  el("button", { type: "submit" }, "Search"));
  show(el("h1", null, "Tasks"), form, tasksTable(page.tasks),
    page.next ? el("p", null, el("a", { id: "next", href: "#/tasks" + query({ ...q, after: page.next }) }, "Next page →")) : null);
}

async function task(id) {
  // Both asked at once: the page is drawn when both answers are in, in one go.
  const asWorkflow = isWorkflow(id);
  let d;
  try {
    d = await api("/api/tasks/" + encodeURIComponent(id));
  } catch (e) {
    // The last task of a chain still running has no record until it is sent; its workflow has.
    if (e.status !== 404 || !(await asWorkflow)) throw e;
    show(el("h1", null, "Task ", el("span", { class: "mono" }, id)),
      muted("This task has not been sent yet: it is the last task of a workflow still running."), workflowLink(id));
    return false;
  }
  const inWorkflow = await asWorkflow;
  const t = d.task;
  const done = ["SUCCESS", "FAILURE", "REVOKED"].includes(t.state); // nothing left to revoke
  const p = t.progress;
  const progress = p && p.total ? Math.min(100, Math.max(0, Math.round((100 * (p.current || 0)) / p.total))) : null;
  const row = (label, value) => [el("dt", null, label), el("dd", null, value)];
  show(
    el("h1", null, "Task ", el("span", { class: "mono" }, t.id)),
    inWorkflow ? workflowLink(t.id) : null,
    done ? null : el("p", null, button("Revoke", "danger", () => confirm("Revoke task " + t.id + "? A queued task will not run; a running one is cancelled.") && act("revoke sent", `/api/tasks/${encodeURIComponent(t.id)}/revoke`))),
    el("dl", null,
      row("Name", t.name), row("State", [state(t.state), t.reason ? " (" + t.reason + ")" : null]),
      row("Queue", t.queue), row("Worker", t.worker), row("Attempt", t.attempt),
      row("Parent", t.parentId ? taskLink(t.parentId) : "-"),
      progress !== null ? row("Progress", [el("progress", { max: 100, value: progress }), ` ${progress}% `, el("span", { class: "mono" }, JSON.stringify(p))]) : null),
    el("h2", null, "Arguments"), el("pre", { id: "args" }, JSON.stringify(t.args ?? null, null, 2)),
    t.result !== undefined ? [el("h2", null, "Result"), el("pre", { id: "result" }, JSON.stringify(t.result, null, 2))] : null,
    t.error ? [el("h2", null, "Error"), el("p", { class: "bad" }, errorText(t.error)), el("pre", { id: "traceback" }, t.error.traceback || "(no traceback)")] : null,
    el("h2", null, "Timeline"),
    table([["When"], ["What"], ["Detail"]],
      d.timeline.map(e => el("tr", null, td(time(e.at, true)), td(el("span", { class: "step " + e.what }, e.what)), td(stepDetail(e)))),
      { id: "timeline" }),
    muted("Steps come from the event log while it keeps them; older ones are told from the stored status (marked “from status”)."),
    el("h2", null, "Children"), tasksTable(d.children));
  return done; // a task still to finish redraws on events
}

// One timeline step's detail: errors are objects in the status and strings in events.
function stepDetail(e) {
  const parts = [];
  if (e.attempt) parts.push("attempt " + e.attempt);
  if (e.worker) parts.push("on " + e.worker);
  if (e.runtimeMs !== undefined) parts.push("ran " + e.runtimeMs + " ms");
  if (e.eta) parts.push("again at " + time(e.eta, true));
  if (e.reason) parts.push(String(e.reason).toLowerCase().replace(/_/g, " "));
  if (e.error) parts.push(el("span", { class: "bad" }, errorText(e.error)));
  if (e.source === "status") parts.push(el("span", { class: "muted" }, "(from status)"));
  return parts.flatMap((p, i) => (i ? [" ", p] : [p]));
}

async function deadLetters(params) {
  const queue = params.get("queue") || "";
  const d = await api("/api/dead-letters" + query({ limit: 100, queue }));
  const qp = query({ queue });
  const inQueue = queue ? " in " + queue : "";
  const form = el("form", { class: "inline", id: "dlq", onsubmit: e => {
    e.preventDefault();
    location.hash = "#/dead-letters" + query({ queue: new FormData(e.target).get("queue") });
  } },
  el("label", null, "Queue", el("input", { name: "queue", value: queue })), el("button", { type: "submit" }, "Filter"),
  button("Re-drive all" + inQueue, "", () => confirm("Re-drive every dead letter" + (queue ? " of " + queue : "") + "?") && act("re-driven", "/api/dead-letters/redrive" + qp)),
  button("Discard all" + inQueue, "danger", () => confirm("Discard every dead letter" + (queue ? " of " + queue : "") + "?") && act("discarded", "/api/dead-letters/discard" + qp)));
  show(el("h1", null, "Dead letters ", el("span", { class: "muted" }, `(${d.total})`)), form,
    d.deadLetters.length
      ? table([["ID"], ["Task"], ["Queue"], ["Reason"], ["Attempts", "num"], ["Failed"], ["Error"], [""]],
        d.deadLetters.map(x => el("tr", null, td(taskLink(x.id)), td(x.taskName || "?"), td(x.queue), td(x.reason, "bad"),
          td(x.attempts, "num"), td(time(x.failedAt)), td(errorText(x.error)),
          td([button("Re-drive", "", () => act("re-driven " + x.id, `/api/dead-letters/${encodeURIComponent(x.id)}/redrive`)),
            button("Discard", "danger", () => act("discarded " + x.id, `/api/dead-letters/${encodeURIComponent(x.id)}/discard`))], "row-actions"))))
      : muted("No dead letters."));
}

async function schedules() {
  const list = await api("/api/schedules");
  list.sort((a, b) => natural(a.name, b.name));
  const path = (n, verb) => `/api/schedules/${encodeURIComponent(n)}/${verb}`;
  const status = s => !s.enabled ? el("span", { class: "warn" }, "paused")
    : s.state.nextFire ? el("span", { class: "SUCCESS" }, "active") : el("span", { class: "muted" }, "finished");
  show(el("h1", null, "Schedules"),
    list.length
      ? table([["Name"], ["Task"], ["When"], ["Zone"], ["Status"], ["Next"], ["Last"], ["Runs", "num"], [""]],
        list.map(s => el("tr", { "data-schedule": s.name }, td(s.name), td(s.task), td(s.trigger, "mono"), td(s.zone), td(status(s)),
          td(time(s.state.nextFire)), td(time(s.state.lastTick)), td(s.state.totalRuns, "num"),
          td([s.enabled ? button("Pause", "", () => act("paused " + s.name, path(s.name, "pause"))) : button("Resume", "", () => act("resumed " + s.name, path(s.name, "resume"))),
            button("Run now", "", () => act("sent " + s.name, path(s.name, "run"))),
            button("Edit", "", () => editSchedule(s)),
            button("Delete", "danger", () => confirm("Delete schedule " + s.name + "?") && act("deleted " + s.name, path(s.name, "delete")))], "row-actions"))))
      : muted("No schedules."),
    readOnly ? null : [el("h2", null, "New schedule"), newScheduleForm()]);
}

function newScheduleForm() {
  const field = (label, name, attrs) => el("label", null, label, el("input", { name, ...attrs }));
  return el("form", { class: "inline", id: "new-schedule", onsubmit: e => {
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
  } },
  field("Name", "name", { required: true }), field("Task", "task", { required: true }),
  field("When", "trigger", { required: true, placeholder: "0 2 * * *  |  every PT15M  |  at 2026-12-24T17:00:00Z", size: 34 }),
  field("Zone", "zone", { value: "UTC", size: 12 }), field("Queue", "queue", { size: 10 }),
  field("Arguments (JSON)", "args", { placeholder: '["bob"] or {"to": "ada"}' }),
  el("label", null, "Missed runs", el("select", { name: "missedRuns" }, ["run-once", "skip", "catch-up"].map(m => el("option", null, m)))),
  el("button", { type: "submit" }, "Create"));
}

function editSchedule(s) {
  const trigger = prompt(`When should "${s.name}" fire? (cron, "every PT15M" or "at <instant>")`, s.trigger);
  if (trigger && trigger !== s.trigger) act("edited " + s.name, `/api/schedules/${encodeURIComponent(s.name)}`, { trigger });
}

// ---- routing, the backend's state and live updates ----

async function route() {
  const hash = location.hash.slice(1) || "/overview";
  const [path, q] = hash.split("?");
  const params = new URLSearchParams(q || "");
  const parts = path.split("/").filter(Boolean);
  const page = parts[0] || "overview";
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.page === page));
  const pages = { overview, queues, workers, "dead-letters": deadLetters, schedules, workflows: workflowLookup };
  try {
    let finished = false;
    if (page === "tasks" && parts[1]) finished = await task(decodeURIComponent(parts.slice(1).join("/")));
    else if (page === "workflows" && parts[1]) finished = await workflow(decodeURIComponent(parts.slice(1).join("/")), params);
    else if (page === "tasks") await tasks(params);
    else await (pages[page] || overview)(params);
    shown = { hash, at: new Date() };
    if (!backend.up) Object.assign(backend, { up: true, since: null, error: null }); // it answered
    main.classList.remove("stale");
    const live = page === "overview" || page === "workers" || page === "queues" || ((page === "tasks" || page === "workflows") && parts[1] && !finished);
    refresh = live ? () => route() : null;
  } catch (e) {
    if (e.status === 503 && shown && shown.hash === hash) {
      toast(e.message, true); // keep the last figures; the banner marks them stale if it is down
    } else {
      shown = null;
      show(el("h1", null, "Error"), el("p", { class: "bad", id: "error" }, e.message));
    }
  }
  showState();
}

function backendState(s) {
  const wasDown = !backend.up;
  backend.up = !!s.up;
  backend.since = s.since || null;
  backend.error = s.up ? null : s.error;
  showState();
  if (backend.up && wasDown) route();
}

function showState() {
  const dot = document.getElementById("live");
  dot.classList.toggle("on", streaming && backend.up);
  dot.classList.toggle("down", !backend.up);
  dot.title = !backend.up ? "the backend is not answering" : streaming ? "live updates" : "live updates paused: reconnecting";
  const banner = document.getElementById("banner");
  banner.hidden = backend.up;
  if (!backend.up) {
    banner.replaceChildren();
    add(banner, [el("strong", null, "The backend is not answering"), backend.since ? " since " + time(backend.since) : "",
      backend.error ? [": ", el("span", { class: "mono" }, backend.error)] : "",
      shown ? ". The figures below are from " + time(shown.at.toISOString()) + " and may be stale." : "."]);
  }
  main.classList.toggle("stale", !backend.up && !!shown);
}

function live() {
  const source = new EventSource("/api/events/stream");
  let pending = false;
  source.onopen = () => { streaming = true; showState(); };
  source.onerror = () => { streaming = false; showState(); };
  const onEvent = () => {
    if (!refresh || pending) return;
    pending = true;
    setTimeout(function again() {
      // Not while someone types in a form on the page: the redraw would take their input away.
      const typing = document.activeElement && main.contains(document.activeElement) && /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
      if (typing) { setTimeout(again, 2000); return; }
      pending = false;
      if (refresh) refresh();
    }, 2000);
  };
  for (const type of ["task-sent", "task-received", "task-started", "task-progress", "task-succeeded", "task-failed", "task-retried", "task-revoked", "worker-online", "worker-offline"]) {
    source.addEventListener(type, onEvent);
  }
  // A page left for another (and perhaps kept in the back-forward cache) gives its connection back:
  // a browser opens only six to one server, and lingering streams would hold up the next page.
  window.addEventListener("pagehide", () => source.close());
  window.addEventListener("pageshow", e => { if (e.persisted) location.reload(); });
  source.addEventListener("backend", e => backendState(JSON.parse(e.data)));
  // The log started again (say Redis came back empty): what is on the page may be gone.
  source.addEventListener("log-restarted", () => { if (refresh) refresh(); });
}

async function start() {
  try {
    const s = await api("/api/session");
    readOnly = s.readOnly;
    const logout = document.getElementById("logout");
    logout.hidden = !s.auth;
    logout.onclick = async () => {
      try {
        await api("/logout", { method: "POST" });
      } finally {
        location.assign("/login");
      }
    };
  } catch (e) {
    // the page says what went wrong when it loads its data
  }
  window.addEventListener("hashchange", route);
  route();
  live();
}

start();
