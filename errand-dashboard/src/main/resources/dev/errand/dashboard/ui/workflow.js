// The workflow pages: a lookup by id, and a workflow as a whole (GET /api/workflows/{id}): every
// task in order with its state, the one holding it up highlighted, a large group as one row per
// state. Drawn with el() (dom.js) like every page, so ids and names from the URL or the API are text.
// Loaded before app.js, whose helpers (api, show, state, taskLink, button, toast, route) it calls.
"use strict";

const GROUP_LISTED = 20; // a group with more tasks shows as one row per state; ?all=1 lists each
const STATE_ORDER = ["PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];
const FINISHED = ["SUCCESS", "FAILURE", "REVOKED"];
const knownWorkflows = new Map(); // task id -> whether a workflow has it, asked once per page load

function workflowHref(id, params) {
  return "#/workflows/" + encodeURIComponent(id) + query(params || {});
}

// Whether a workflow has this id (a chain's or chord's id is its last task's), asked once.
async function isWorkflow(id) {
  if (!knownWorkflows.has(id)) {
    try {
      await api("/api/workflows/" + encodeURIComponent(id));
      knownWorkflows.set(id, true);
    } catch (e) {
      if (e.status !== 404) return false; // not cached: ask again on the next redraw
      knownWorkflows.set(id, false);
    }
  }
  return knownWorkflows.get(id);
}

function workflowLink(id) {
  return el("p", null, el("a", { id: "workflow-link", href: workflowHref(id) }, "This id is a workflow's: see the whole workflow →"));
}

function workflowLookup() {
  const form = el("form", { class: "inline", id: "workflow-lookup", onsubmit: e => {
    e.preventDefault();
    const id = String(new FormData(e.target).get("id") || "").trim();
    if (id) location.hash = workflowHref(id);
  } },
  el("label", null, "Workflow ID", el("input", { name: "id", size: 38, required: true })),
  el("button", { type: "submit" }, "Show"));
  show(el("h1", null, "Workflows"),
    muted("A workflow's id is its group's for a group, else its last task's: the id that sending it returned."),
    form);
}

// Counts per state, in the order of a task's life.
function countStates(steps) {
  const counts = new Map();
  for (const s of steps) counts.set(s.state, (counts.get(s.state) || 0) + 1);
  const rank = s => (STATE_ORDER.includes(s) ? STATE_ORDER.indexOf(s) : STATE_ORDER.length);
  return [...counts].sort((a, b) => rank(a[0]) - rank(b[0]));
}

function tasksText(n) {
  return n.toLocaleString("en-US") + (n === 1 ? " task" : " tasks");
}

function roleText(role) {
  return String(role).toLowerCase().replace(/_/g, "-");
}

async function workflow(id, params) {
  const w = await api("/api/workflows/" + encodeURIComponent(id));
  knownWorkflows.set(id, true);
  const all = params.get("all") === "1";
  const blocked = w.blockedBy ? w.steps.find(s => s.taskId === w.blockedBy) : null;
  const stopped = !!blocked && (blocked.state === "FAILURE" || blocked.state === "REVOKED");
  const unfinished = w.steps.filter(s => !FINISHED.includes(s.state)).length;
  const sizes = new Map();
  for (const s of w.steps) if (s.group) sizes.set(s.group, (sizes.get(s.group) || 0) + 1);
  const collapsed = new Set(all ? [] : [...sizes].filter(([, n]) => n > GROUP_LISTED).map(([g]) => g));

  const mark = s => (s === blocked ? el("span", { class: "holding" }, stopped ? "stopped here" : "holding it up") : "");
  const row = s => el("tr", { class: s === blocked ? "blocking" + (stopped ? " stopped" : "") : null, "data-task": s.taskId },
    td(s.position, "mono"), td(s.task), td(roleText(s.role)), td(state(s.state)), td(taskLink(s.taskId)), td(mark(s)));
  const rows = [];
  const drawn = new Set();
  for (const s of w.steps) {
    if (!s.group || !collapsed.has(s.group)) rows.push(row(s));
    else if (!drawn.has(s.group)) {
      drawn.add(s.group);
      rows.push(groupRows(w.steps.filter(m => m.group === s.group), row, blocked));
    }
  }

  const at = blocked ? [blocked.position, " ", blocked.task, " (", taskLink(blocked.taskId), "): ", state(blocked.state)] : null;
  const summary = !blocked ? [el("span", { class: "SUCCESS" }, "Succeeded"), ": every task has finished"]
    : stopped ? [el("span", { class: "bad" }, "Stopped"), " at ", at]
    : [el("span", { class: "warn" }, "Waiting"), " on ", at];
  const counts = countStates(w.steps).flatMap(([st, n], i) => [i ? ", " : "", n.toLocaleString("en-US") + " ", state(st)]);
  show(
    el("h1", null, "Workflow ", el("span", { class: "mono" }, w.id)),
    el("p", { id: "workflow-summary" }, summary),
    el("p", { id: "workflow-counts" }, tasksText(w.steps.length) + ": ", counts),
    unfinished ? el("p", null, button("Revoke workflow", "danger", () => revokeWorkflow(w.id, unfinished))) : null,
    collapsed.size
      ? el("p", { class: "muted" }, `A group of more than ${GROUP_LISTED} tasks shows one row per state. `,
        el("a", { id: "list-all", href: workflowHref(w.id, { all: 1 }) }, "List every task"))
      : all && [...sizes.values()].some(n => n > GROUP_LISTED)
        ? el("p", { class: "muted" }, el("a", { id: "list-counts", href: workflowHref(w.id) }, "Count large groups per state"))
        : null,
    table([["Position"], ["Task"], ["Role"], ["State"], ["ID"], [""]], rows, { id: "workflow-steps" }));
  return unfinished === 0 || stopped; // a workflow still to finish redraws on events
}

// One row per state of a large group, then the task holding the workflow up if it is in it.
function groupRows(members, row, blocked) {
  const first = members[0].position;
  const position = (first.includes(".") ? first.slice(0, first.indexOf(".")) : first) + ".*";
  const names = new Map();
  for (const m of members) {
    if (!names.has(m.state)) names.set(m.state, new Set());
    names.get(m.state).add(m.task);
  }
  const rows = countStates(members).map(([st, n]) => {
    const taskNames = [...names.get(st)];
    const shown = taskNames.slice(0, 3).join(", ") + (taskNames.length > 3 ? ` and ${taskNames.length - 3} more` : "");
    return el("tr", { class: "group-count", "data-state": st }, td(position, "mono"), td(shown), td(roleText(members[0].role)),
      td(state(st)), td(tasksText(n), "muted"), td(""));
  });
  if (blocked && members.includes(blocked)) rows.push(row(blocked));
  return rows;
}

async function revokeWorkflow(id, unfinished) {
  if (!confirm(`Revoke workflow ${id}? Its ${unfinished} unfinished tasks will not run; a running one is cancelled.`)) return;
  try {
    const r = await api(`/api/workflows/${encodeURIComponent(id)}/revoke`, { method: "POST" });
    toast(`revoked ${r.revoked} of ${r.tasks} tasks`);
    route();
  } catch (e) {
    toast(e.message, true);
  }
}
