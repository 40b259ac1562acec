// How the dashboard builds its pages: el() is the only way anything reaches the DOM. Text always
// goes in as text nodes, attributes through setAttribute from a fixed list, handlers as functions,
// links only inside the dashboard. There is no innerHTML, so no value (from the URL, the API or an
// event; task arguments, errors and names are anyone's data) can ever become markup or script.
"use strict";

const ATTRIBUTES = new Set(["id", "class", "href", "title", "name", "value", "type", "placeholder", "size",
  "required", "selected", "disabled", "hidden", "role", "max", "autocomplete", "colspan", "for"]);
const INSIDE = /^(#|\/(?!\/))/; // a hash route or a path on this server, never javascript: or another site

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) {
      if (typeof v !== "function") throw new Error("a handler must be a function: " + k);
      e.addEventListener(k.slice(2), v);
    } else if (k.startsWith("data-") || ATTRIBUTES.has(k)) {
      if (k === "href" && !INSIDE.test(String(v))) throw new Error("a link must stay in the dashboard: " + v);
      e.setAttribute(k, v === true ? "" : String(v));
    } else {
      throw new Error("attribute not allowed: " + k);
    }
  }
  return add(e, children);
}

function add(parent, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    parent.append(c instanceof Node ? c : String(c));
  }
  return parent;
}

// A table; columns are [label, class] pairs, rows are <tr> elements. The wrapper scrolls sideways
// on its own if a table cannot shrink to the window.
function table(columns, rows, attrs) {
  return el("div", { class: "table-wrap" },
    el("table", attrs,
      el("thead", null, el("tr", null, columns.map(([label, cls]) => el("th", { class: cls }, label)))),
      el("tbody", null, rows)));
}

function td(content, cls) {
  return el("td", { class: cls }, content);
}

function muted(text) {
  return el("p", { class: "muted" }, text);
}

// Every time on the page is UTC, as the API and the logs give it; millis only where asked.
function time(iso, millis) {
  if (!iso) return "-";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const s = d.toISOString().replace("T", " ");
  return millis ? s : s.replace(/\.\d+Z$/, "Z");
}

function ago(iso, now) {
  if (!iso) return "-";
  const s = Math.max(0, Math.round(((now ? new Date(now) : new Date()) - new Date(iso)) / 1000));
  if (isNaN(s)) return "-";
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d" + Math.floor((s % 86400) / 3600) + "h";
}

// q2 before q10, as a person counts.
const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }).compare;

// A query string from an object, leaving out empty values.
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}
