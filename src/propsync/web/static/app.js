// propsync admin UI: small progressive enhancements; every page works without them.
"use strict";

function filterBy(input, container, rowSelector) {
  const needle = input.value.trim().toLowerCase();
  let shown = 0;
  container.querySelectorAll(rowSelector).forEach((row) => {
    row.hidden = needle !== "" && !row.dataset.filterText.includes(needle);
    if (!row.hidden) shown += 1;
  });
  // The count beside a live filter says what is shown now ("3 of 11 properties").
  const count = document.querySelector(`[data-filter-count="${CSS.escape(container.id)}"]`);
  if (count) count.textContent = `${shown} of ${count.dataset.of} ${count.dataset.noun}`;
}

function setUpFilters() {
  document.querySelectorAll("[data-filter-table]").forEach((input) => {
    const table = document.getElementById(input.dataset.filterTable);
    input.addEventListener("input", () => filterBy(input, table, "tbody tr[data-filter-text]"));
  });
  document.querySelectorAll("[data-filter-list]").forEach((input) => {
    const list = document.getElementById(input.dataset.filterList);
    input.addEventListener("input", () => filterBy(input, list, "[data-filter-text]"));
  });
}

// The wizard proposes the internal name from the label until the name is typed by hand.
function setUpNameProposal() {
  const label = document.querySelector("[data-proposes]");
  const name = document.querySelector("[data-proposed-by]");
  if (!label || !name) return;
  let touched = name.value !== "" && name.value !== propose(label.value);
  name.addEventListener("input", () => { touched = name.value !== ""; });
  label.addEventListener("input", () => { if (!touched) name.value = propose(label.value); });
}

function propose(label) {
  const name = label.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 100);
  return /^[0-9]/.test(name) ? ("p_" + name).slice(0, 100) : name;
}

async function getJSON(url) {
  const reply = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!reply.ok) throw new Error(url + " answered " + reply.status);
  return reply.json();
}

// Progress bars are drawn from data-progress (the page's CSP allows no inline style).
function setUpProgress() {
  document.querySelectorAll("[data-progress]").forEach((bar) => {
    bar.style.width = bar.dataset.progress + "%";
  });
}

// "Go back" returns to the page before, when there is one (else it leads home).
function setUpBack() {
  document.querySelectorAll("[data-back]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (history.length > 1) { event.preventDefault(); history.back(); }
    });
  });
}

// A sync property's page follows its backfill until it is live.
function setUpStatusPoll() {
  const box = document.querySelector("[data-poll-status]");
  if (!box) return;
  const bar = box.querySelector(".progress");
  const tick = async () => {
    try {
      const s = await getJSON(box.dataset.pollStatus);
      for (const key of ["state", "done", "total", "filled", "queued"]) {
        const el = box.querySelector(`[data-field="${key}"]`);
        if (el) el.textContent = s[key];
      }
      const state = box.querySelector('[data-field="state"]');
      state.className = "badge state-" + s.state.toLowerCase();
      bar.setAttribute("aria-valuenow", s.done);
      bar.setAttribute("aria-valuemax", s.total);
      bar.firstElementChild.style.width = (s.total ? (100 * s.done) / s.total : 100) + "%";
      if (s.state !== "LIVE" || s.queued > 0) setTimeout(tick, 700);
    } catch (err) {
      setTimeout(tick, 3000);
    }
  };
  setTimeout(tick, 300);
}

// A record page follows its values (a sync from another record shows up by itself).
function setUpRecordPoll() {
  const page = document.querySelector("[data-record-poll]");
  if (!page) return;
  const status = document.querySelector("[data-live-status]");
  const tick = async () => {
    try {
      const data = await getJSON(page.dataset.recordPoll);
      for (const [name, value] of Object.entries(data.values)) {
        const cell = page.querySelector(`[data-prop="${CSS.escape(name)}"]`);
        const text = value === null ? "" : String(value);
        if (cell && cell.textContent !== text) {
          cell.textContent = text;
          cell.classList.remove("changed"); void cell.offsetWidth; cell.classList.add("changed");
          refreshHistory(page, name);
        }
      }
      for (const [name, origin] of Object.entries(data.synced)) {
        const line = page.querySelector(`[data-synced-from="${CSS.escape(name)}"]`);
        if (!line) continue;
        const link = line.querySelector("a");
        if (origin.href && (!link || link.getAttribute("href") !== origin.href || link.textContent !== origin.title)) {
          line.textContent = "Synced from ";
          const a = document.createElement("a");
          a.href = origin.href; a.textContent = origin.title;
          line.appendChild(a);
        } else if (!origin.href && link) {
          line.textContent = "No associated record qualifies: empty";
        }
      }
      if (status) status.textContent = "live · checked " + new Date().toLocaleTimeString();
    } catch (err) {
      if (status) status.textContent = "not live: " + err.message;
    }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}

// ===== Record pages: a value that changed live redraws its history (kept open if open).
async function refreshHistory(page, name) {
  const box = page.querySelector(`[data-history="${CSS.escape(name)}"]`);
  if (!box) return;
  const wasOpen = Boolean(box.querySelector("details[open]"));
  const reply = await fetch(box.dataset.historyUrl, { credentials: "same-origin" });
  if (!reply.ok) return;
  box.innerHTML = await reply.text();
  const details = box.querySelector("details");
  if (details && wasOpen) details.open = true;
}

// The explanation popover is refreshed from the explain call each time it opens.
function setUpExplain() {
  document.querySelectorAll("[data-explain]").forEach((button) => {
    const pop = document.getElementById(button.getAttribute("popovertarget"));
    pop.addEventListener("toggle", async (event) => {
      if (event.newState !== "open") return;
      const reply = await fetch(button.dataset.explain, { credentials: "same-origin" });
      if (reply.ok) pop.innerHTML = await reply.text();
    });
  });
}

// Labels checkboxes of the wizard show only with "Select association labels".
function setUpShownWhen() {
  document.querySelectorAll("[data-shown-when]").forEach((block) => {
    const [name, value] = block.dataset.shownWhen.split("=");
    const radios = document.querySelectorAll(`input[name="${name}"]`);
    const update = () => {
      const chosen = document.querySelector(`input[name="${name}"]:checked`);
      block.hidden = !chosen || chosen.value !== value;
    };
    radios.forEach((r) => r.addEventListener("change", update));
    update();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpProgress();
  setUpBack();
  setUpFilters();
  setUpNameProposal();
  setUpStatusPoll();
  setUpRecordPoll();
  setUpExplain();
  setUpShownWhen();
});
