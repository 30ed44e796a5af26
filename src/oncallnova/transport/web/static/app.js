// OnCallNova web UI: actions through the JSON API, and live updates over SSE.
// Served from this origin only; no inline script (the CSP forbids it).
"use strict";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)oncallnova_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(method, url, body) {
  const headers = { "Accept": "application/json", "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined && method !== "GET" && method !== "DELETE") {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    return { ok: false, status: 0, data: { detail: "The server cannot be reached. Check your connection and try again." } };
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try { data = JSON.parse(text); } catch (err) { data = { detail: text.slice(0, 300) }; }
  }
  return { ok: response.ok, status: response.status, data };
}

function problem(result) {
  const data = result.data || {};
  if (result.status === 401 && window.location.pathname !== "/login") {
    return "Your session has ended. Reload the page to sign in again.";
  }
  let text = typeof data.detail === "string" ? data.detail : "The request failed (" + result.status + ").";
  if (Array.isArray(data.errors) && data.errors.length && !text.includes(data.errors[0])) {
    text += ": " + data.errors.join("; ");
  }
  return text;
}

function flash(message, kind) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = message;
  box.className = "flash flash-" + (kind || "info");
  box.hidden = false;
  clearTimeout(flash.timer);
  if (kind !== "error") flash.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  // a numeric next key makes a list: `layers.0.name` -> {"layers": [{"name": ...}]}
  keys.slice(0, -1).forEach((key, i) => {
    node = node[key] = node[key] || (/^\d+$/.test(keys[i + 1]) ? [] : {});
  });
  const last = keys[keys.length - 1];
  if (last.endsWith("[]")) {
    const name = last.slice(0, -2);
    (node[name] = node[name] || []).push(value);
  } else {
    node[last] = value;
  }
}

function fieldValue(field) {
  const type = field.dataset.type || "";
  if (field.type === "checkbox" && !field.name.endsWith("[]")) return field.checked;
  if (field.multiple) return Array.from(field.selectedOptions, (o) => o.value);
  const raw = field.value.trim();
  if (field.dataset.wrap) return { [field.dataset.wrap]: raw };  // "a@b" -> {"address": "a@b"}
  if (type === "int") return parseInt(raw, 10);
  if (type === "float") return parseFloat(raw);
  if (type === "list") return raw.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean);
  if (type === "json") return JSON.parse(raw);
  if (type === "datetime") return new Date(raw).toISOString();
  return raw;
}

function formBody(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === "checkbox" && field.name.endsWith("[]") && !field.checked) continue;
    if (field.type === "radio" && !field.checked) continue;
    const keep = field.dataset.keepEmpty !== undefined;
    if (field.type !== "checkbox" && !field.multiple && field.value.trim() === "") {
      if (keep) setPath(body, field.name, null);
      continue;
    }
    try {
      setPath(body, field.name, fieldValue(field));
    } catch (err) {
      throw new Error((field.labels && field.labels[0] ? field.labels[0].textContent.trim() : field.name) + ": " + err.message);
    }
  }
  return body;
}

function fill(template, data) {
  return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(data && data[key] !== undefined ? data[key] : ""));
}

async function after(then, data) {
  if (then && then.startsWith("go:")) {
    window.location.assign(fill(then.slice(3), data));
  } else if (then && then.startsWith("show:")) {
    const target = document.querySelector(then.slice(5));
    if (!target) return;
    for (const slot of target.querySelectorAll("[data-field]")) {
      const value = data ? data[slot.dataset.field] : "";
      slot.textContent = value === undefined || value === null ? "" : value;
      if (slot.dataset.copy !== undefined) slot.dataset.copy = slot.textContent;
    }
    for (const button of target.querySelectorAll("[data-copy-field]")) {
      button.dataset.copy = data ? data[button.dataset.copyField] : "";
    }
    target.hidden = false;
    target.dataset.shown = "";  // kept as it is when its live region is refetched
    target.focus();
    await refresh(false);  // the list behind the secret box shows the new item
  } else if (then === "none") {
    return;
  } else {
    await refresh(true);
  }
}

async function run(element, method, url, body) {
  if (element.dataset.confirm && !window.confirm(element.dataset.confirm)) return;
  const error = element.closest("form") ? element.closest("form").querySelector(".error") : null;
  if (error) error.hidden = true;
  element.setAttribute("aria-busy", "true");
  const buttons = element.tagName === "FORM" ? element.querySelectorAll("button") : [element];
  buttons.forEach((b) => { b.disabled = true; });
  const result = await api(method, url, body);
  buttons.forEach((b) => { b.disabled = false; });
  element.removeAttribute("aria-busy");
  if (!result.ok) {
    if (error) { error.textContent = problem(result); error.hidden = false; } else { flash(problem(result), "error"); }
    return;
  }
  if (element.dataset.done) flash(element.dataset.done, "ok");
  if (element.tagName === "FORM" && element.dataset.reset !== undefined) element.reset();
  await after(element.dataset.then, result.data);
}

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  let body;
  try { body = formBody(form); } catch (err) {
    const error = form.querySelector(".error");
    if (error) { error.textContent = err.message; error.hidden = false; }
    return;
  }
  run(form, form.dataset.method || "POST", fill(form.dataset.api, body), body);
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-api]");
  if (button && !button.form) {
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    run(button, button.dataset.method || "POST", button.dataset.api, body);
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy && copy.tagName === "BUTTON") {
    await copyText(copy.dataset.copy);
    flash("Copied to the clipboard.", "ok");
    return;
  }
  if (event.target.closest("[data-logout]")) {
    await api("POST", "/api/v1/auth/logout");
    window.location.assign("/login");
  }
});

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return; } catch (err) { /* fall back */ }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

// --- live regions: elements with data-live and an id are refetched on change ---------

let refreshing = false;
let again = false;

async function refresh(force) {
  const regions = document.querySelectorAll("[data-live][id]");
  if (!regions.length) {
    if (force) window.location.reload();
    return;
  }
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live": "1" } });
    if (response.redirected || response.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname)); return; }
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of regions) {
      const next = fresh.getElementById(region.id);
      if (!next) continue;
      const focused = region.contains(document.activeElement) ? document.activeElement : null;
      if (focused && ["INPUT", "SELECT", "TEXTAREA"].includes(focused.tagName)) continue;
      const focusKey = focused ? focused.dataset.key : null;
      const shown = Array.from(region.querySelectorAll("[data-shown][id]"));
      region.innerHTML = next.innerHTML;
      for (const box of shown) {  // a secret on display stays until the user is done
        const fresh = region.querySelector("#" + CSS.escape(box.id));
        if (fresh) fresh.replaceWith(box);
      }
      if (focusKey) {
        const target = region.querySelector('[data-key="' + CSS.escape(focusKey) + '"]');
        if (target) target.focus();
      }
    }
    showLive();
    document.dispatchEvent(new CustomEvent("oncallnova:refreshed"));
  } finally {
    refreshing = false;
    if (again) { again = false; refresh(false); }
  }
}

let liveOn = false;

function showLive() {
  const badge = document.getElementById("live-status");  // may sit in a refreshed region
  if (!badge) return;
  badge.textContent = liveOn ? "Live" : "Reconnecting…";
  badge.className = "live " + (liveOn ? "live-on" : "live-off");
}

function connect() {
  const url = document.body.dataset.liveStream;
  if (!url || !window.EventSource) return;
  const source = new EventSource(url);
  let failures = 0;
  source.addEventListener("open", () => {
    failures = 0;
    liveOn = true;
    showLive();
  });
  source.addEventListener("change", () => refresh(false));
  source.addEventListener("error", async () => {
    liveOn = false;
    showLive();
    failures += 1;
    if (failures >= 3) {
      const me = await api("GET", "/api/v1/auth/me");
      if (me.status === 401) { source.close(); window.location.assign("/login"); }
    }
  });
}

document.addEventListener("DOMContentLoaded", connect);

// --- forms whose fields depend on a choice: <select data-switch> shows the elements of
// its form whose data-for lists the chosen value, and disables the inputs of the others
// (so they are not sent) ---------------------------------------------------------------

function applySwitches() {
  for (const select of document.querySelectorAll("select[data-switch]")) {
    const form = select.closest("form");
    if (!form) continue;
    for (const part of form.querySelectorAll("[data-for]")) {
      const shown = part.dataset.for.split(" ").includes(select.value);
      part.hidden = !shown;
      const inputs = part.matches("input, select, textarea") ? [part] : part.querySelectorAll("input, select, textarea");
      inputs.forEach((input) => { input.disabled = !shown; });
    }
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-switch]")) applySwitches();
});
document.addEventListener("reset", () => setTimeout(applySwitches, 0));
document.addEventListener("oncallnova:refreshed", applySwitches);
document.addEventListener("DOMContentLoaded", applySwitches);
