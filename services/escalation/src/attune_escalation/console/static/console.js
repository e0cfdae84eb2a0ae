// The console's only script: log in, live queue (server-sent events), waiting clocks, and the
// actions, each a call to the JSON API with the session cookie and its CSRF token.
"use strict";

function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("attune_csrf="));
  return found ? decodeURIComponent(found.slice("attune_csrf=".length)) : "";
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = response.statusText;
    let answer = null;
    try {
      answer = await response.json();
      detail = answer.detail || detail;
      if (answer.errors && answer.errors.length) {
        detail += ": " + answer.errors.map((e) => e.field + " " + e.reason).join("; ");
      }
    } catch (_) { /* not JSON */ }
    const error = new Error(detail + " (" + response.status + ")");
    error.status = response.status;
    error.errors = (answer && answer.errors) || [];
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

function say(text) {
  const status = document.getElementById("status");
  if (status) status.textContent = text;
}

// Waiting time counts up from each incident's opening, on the server's clock.
const serverNow = Number(document.body.dataset.serverNow || Date.now());
const skew = serverNow - Date.now();

function waited(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
}

function tick() {
  const now = Date.now() + skew;
  for (const el of document.querySelectorAll("time.waiting:not([data-stopped])")) {
    el.textContent = waited(now - Number(el.dataset.opened));
  }
}

function liveQueue() {
  const rows = document.getElementById("queue-rows");
  const live = document.getElementById("live");
  if (!rows) return;
  const source = new EventSource("/console/stream");
  source.addEventListener("open", () => { live.dataset.state = "live"; live.textContent = "live"; });
  source.addEventListener("error", () => { live.dataset.state = "reconnecting"; live.textContent = "reconnecting…"; });
  source.addEventListener("queue", (event) => {
    const before = new Set([...rows.querySelectorAll("tr[data-id]")].map((r) => r.dataset.id));
    rows.innerHTML = event.data;
    tick();
    const added = [...rows.querySelectorAll("tr[data-id]")].filter((r) => !before.has(r.dataset.id));
    for (const row of added) row.classList.add("new");
    const crisis = added.some((r) => r.classList.contains("crisis"));
    if (added.length) say((crisis ? "New crisis. " : "") + added.length + " new incident(s) in the queue.");
  });
}

// On an incident page: say so when someone else changes the incident (the queue's stream
// carries every open incident's status; gone from it means resolved).
function liveIncident() {
  const article = document.querySelector("article.incident");
  const notice = document.getElementById("changed");
  if (!article || !notice || article.dataset.status === "resolved") return;
  const source = new EventSource("/console/stream");
  source.addEventListener("queue", (event) => {
    const rows = document.createElement("tbody");
    rows.innerHTML = event.data;
    const row = rows.querySelector('tr[data-id="' + article.dataset.id + '"]');
    const now = row ? row.dataset.status : "resolved";
    if (now !== article.dataset.status) {
      notice.querySelector("span").textContent = "This incident is now " + now + ".";
      notice.hidden = false;
      say("This incident is now " + now + ".");
    }
  });
}

function login() {
  const form = document.getElementById("login");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("login-error");
    error.textContent = "";
    try {
      await call("POST", "/v1/auth/session", {
        username: form.username.value, password: form.password.value,
      });
      window.location.assign("/console");
    } catch (e) {
      error.textContent = "Could not log in: " + e.message;
      form.password.focus();
    }
  });
}

function logout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    try { await call("POST", "/v1/auth/logout"); } finally { window.location.assign("/console/login"); }
  });
}

function actions() {
  const article = document.querySelector("article.incident");
  if (!article) return;
  const base = "/v1/incidents/" + article.dataset.id;
  const error = document.getElementById("action-error");
  const run = async (what, body) => {
    error.textContent = "";
    try {
      await call("POST", base + "/" + what, body);
      say("Done: " + what);
      window.location.reload();
    } catch (e) {
      error.textContent = "Could not " + what + ": " + e.message;
    }
  };
  for (const button of article.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => run(button.dataset.action));
  }
  const reassign = document.getElementById("reassign");
  if (reassign) {
    reassign.addEventListener("submit", (event) => {
      event.preventDefault();
      run("reassign", { to: reassign.to.value.trim() });
    });
  }
  const resolve = document.getElementById("resolve");
  if (resolve) {
    resolve.addEventListener("submit", (event) => {
      event.preventDefault();
      const verdicts = [];
      for (const set of resolve.querySelectorAll("fieldset.verdict")) {
        const verdict = set.querySelector("select[name=verdict]").value;
        if (!verdict) continue;
        const markers = [...set.querySelector("select[name=markers]").selectedOptions].map((o) => o.value);
        verdicts.push({ alert_id: set.dataset.alert, verdict, markers: markers.length ? markers : null });
      }
      const note = resolve.note.value.trim();
      run("resolve", { outcome: resolve.outcome.value, note: note || null, verdicts });
    });
  }
}

// The silences page: create (each refused field's reason shown next to it) and expire.
function silences() {
  const form = document.getElementById("new-silence");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("silence-error");
      error.textContent = "";
      for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
      for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
      const matchers = {};
      const conversation = form.conversation_id.value.trim();
      if (conversation) matchers.conversation_id = conversation;
      if (form.kind.value) matchers.kind = form.kind.value;
      if (form.severity.value) matchers.severity = form.severity.value;
      const endsAt = new Date(Date.now() + skew + Number(form.duration.value) * 1000);
      try {
        await call("POST", "/v1/silences", {
          matchers, ends_at: endsAt.toISOString(), comment: form.comment.value.trim(),
        });
        say("Silence created.");
        window.location.assign("/console/silences");
      } catch (e) {
        let placed = false;
        for (const fault of e.errors || []) {
          const slot = form.querySelector('.field-error[data-field="' + fault.field + '"]');
          if (!slot) continue;
          slot.textContent = "Refused: " + fault.reason;
          const control = document.querySelector('[aria-describedby="' + slot.id + '"]');
          if (control) {
            control.setAttribute("aria-invalid", "true");
            if (!placed) control.focus();
          }
          placed = true;
        }
        error.textContent = placed
          ? "Could not create the silence: the marked field says why."
          : "Could not create the silence: " + e.message;
      }
    });
  }
  for (const button of document.querySelectorAll("button[data-expire]")) {
    button.addEventListener("click", async () => {
      try {
        await call("POST", "/v1/silences/" + button.dataset.expire + "/expire");
        say("Silence expired.");
        window.location.reload();
      } catch (e) {
        say("Could not expire the silence: " + e.message);
      }
    });
  }
}

// The on-call page: take this (or the next) shift, or, for a supervisor, assign one.
function onCall() {
  const error = document.getElementById("oncall-error");
  if (!error) return;
  const take = async (schedule, body) => {
    error.textContent = "";
    try {
      await call("POST", "/v1/oncall/" + encodeURIComponent(schedule) + "/take", body);
      say("Shift taken.");
      window.location.reload();
    } catch (e) {
      error.textContent = "Could not take the shift of " + schedule + ": " + e.message;
    }
  };
  for (const button of document.querySelectorAll("button[data-take]")) {
    button.addEventListener("click", () => take(button.dataset.take, { shift: button.dataset.shift }));
  }
  for (const form of document.querySelectorAll("form.assign")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      take(form.dataset.schedule, { shift: form.shift.value, clinician: form.clinician.value.trim() });
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  login();
  logout();
  liveQueue();
  liveIncident();
  actions();
  silences();
  onCall();
  tick();
  setInterval(tick, 1000);
});
