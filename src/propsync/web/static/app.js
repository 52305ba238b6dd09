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
// The server proposes it (/ui/settings/propose-name), the same name a blank field gets on
// Next: one rule, which transliterates every language ("Ærlig Øl" → "aerlig_ol").
function setUpNameProposal() {
  const label = document.querySelector("[data-proposes]");
  const name = document.querySelector("[data-proposed-by]");
  if (!label || !name) return;
  let touched = name.dataset.typed === "true";
  let asked = 0;
  name.addEventListener("input", () => { touched = name.value !== ""; });
  label.addEventListener("input", async () => {
    if (touched) return;
    const mine = ++asked;
    try {
      const reply = await getJSON("/ui/settings/propose-name?label=" + encodeURIComponent(label.value));
      if (mine === asked && !touched) name.value = reply.name;
    } catch (err) {
      // The server proposes the name on Next when the field is left blank.
    }
  });
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
// A datetime property's value is an instant: shown as a <time> in local time, like
// every other time on the page; any other value as its text.
function showValue(cell, text) {
  if (cell.dataset.type === "datetime" && text && !Number.isNaN(new Date(text).getTime())) {
    const time = document.createElement("time");
    time.dateTime = text;
    time.dataset.localTime = "";
    time.textContent = text;
    cell.replaceChildren(time);
  } else {
    cell.textContent = text;
  }
}

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
        if (cell && cell.dataset.raw !== text) {
          cell.dataset.raw = text;
          showValue(cell, text);
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
      if (status) status.textContent = "live · checked " + formatLocalTime(new Date(), true);
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

// ---- shell: the top bar's menu and local times (base.html, web/core.py `when`) ----

// On a phone the sections sit behind the Menu button: it opens and closes them
// (aria-expanded), moves focus into the menu it opened, and Escape or a click elsewhere
// closes it again.
function setUpMenu() {
  const bar = document.querySelector("[data-topbar]");
  const button = bar && bar.querySelector("[data-menu-button]");
  if (!button) return;
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const isOpen = () => button.getAttribute("aria-expanded") === "true";
  const setOpen = (open) => {
    button.setAttribute("aria-expanded", String(open));
    bar.classList.toggle("menu-open", open);
    if (open) {
      const first = menu.querySelector("a, button");
      if (first) first.focus();
    }
  };
  bar.classList.add("menu-ready");
  button.hidden = false;
  button.addEventListener("click", () => setOpen(!isOpen()));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) { setOpen(false); button.focus(); }
  });
  document.addEventListener("click", (event) => {
    if (isOpen() && !bar.contains(event.target)) setOpen(false);
  });
}

// Every time a page shows is a <time datetime="...Z" data-local-time> from the server:
// shown here in the browser's time zone and locale, all in one format. Times added later
// (a popover's content, a live refresh) are formatted as they arrive.
const LOCAL_DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit" });
const LOCAL_CLOCK = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", second: "2-digit" });

function formatLocalTime(date, clockOnly) {
  return (clockOnly ? LOCAL_CLOCK : LOCAL_DATE_TIME).format(date);
}

function localizeTimes(root) {
  const found = root.matches && root.matches("time[data-local-time]") ? [root] : [];
  if (root.querySelectorAll) found.push(...root.querySelectorAll("time[data-local-time]"));
  for (const el of found) {
    const at = new Date(el.dateTime);
    if (Number.isNaN(at.getTime()) || el.dataset.shown === el.dateTime) continue;
    el.dataset.shown = el.dateTime;
    el.textContent = formatLocalTime(at);
    el.title = at.toISOString().replace(/\.\d+Z$/, "Z");
  }
}

function setUpLocalTimes() {
  localizeTimes(document.body);
  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach((node) => {
      if (node.nodeType === Node.ELEMENT_NODE) localizeTimes(node);
    });
  }).observe(document.body, { childList: true, subtree: true });
}

// ---- sync overview (sync.html): follows its numbers live ----
// Polls every 2 s while the tab is shown; a sync property added or deleted reloads the page.
function setUpSyncOverviewPoll() {
  const box = document.querySelector("[data-sync-overview]");
  if (!box) return;
  const live = document.querySelector("[data-sync-live]");
  const tick = async () => {
    if (!document.hidden) {
      try {
        const rows = [...box.querySelectorAll("tr[data-property-id]")];
        // the values held are recounted only for rows this page still shows not live
        const counting = rows.filter((r) => r.querySelector('[data-field="state"]').textContent.trim() !== "LIVE")
          .map((r) => r.dataset.propertyId).join(",");
        const data = await getJSON(box.dataset.syncOverview + "?counting=" + counting);
        const ids = rows.map((r) => r.dataset.propertyId).sort().join(",");
        if (ids !== Object.keys(data.properties).sort().join(",")) { location.reload(); return; }
        box.querySelectorAll("[data-total]").forEach((el) => {
          el.textContent = String(data[el.dataset.total]);
        });
        for (const row of rows) {
          const values = data.properties[row.dataset.propertyId];
          row.querySelectorAll("[data-field]").forEach((el) => {
            // a live property's values held are not recounted each time: kept as drawn
            if (el.dataset.field in values) el.textContent = String(values[el.dataset.field]);
          });
          row.querySelector('[data-field="state"]').className = "badge state-" + values.state.toLowerCase();
        }
        if (live) live.textContent = "live · checked " + formatLocalTime(new Date(), true);
      } catch (err) {
        if (live) live.textContent = "not live: " + err.message;
      }
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpMenu();
  setUpLocalTimes();
  setUpSyncOverviewPoll();
});

// ---- workflow editor (workflow_edit.html): works without script; this saves reloads ----
// The menus of an associated record's properties follow the association chosen (one menu
// per object type; the others hidden and disabled, so not sent). A condition's operators
// follow its property's type, its value field offers the property's options and hides
// for "is known/unknown". Nothing submits on its own: a keyboard user arrowing through a
// menu is not sent to another page.
function setUpFlowEditor() {
  const form = document.querySelector("[data-flow-editor]");
  if (!form) return;
  document.documentElement.classList.add("js");
  const table = JSON.parse(form.dataset.operators || "{}");
  form.querySelectorAll("select[data-association]").forEach((select) => {
    const boxes = form.querySelectorAll(`[data-for-association="${CSS.escape(select.id)}"]`);
    const note = form.querySelector(`[data-until-association="${CSS.escape(select.id)}"]`);
    select.addEventListener("change", () => {
      const chosen = select.selectedOptions[0];
      const type = chosen ? chosen.dataset.objectType || "" : "";
      boxes.forEach((box) => {
        const on = box.dataset.objectType === type;
        box.hidden = !on;
        box.querySelector("select").disabled = !on;
      });
      if (note) note.hidden = type !== "";
    });
  });
  form.querySelectorAll("select[data-operator-for]").forEach((operator) => {
    const property = document.getElementById(operator.dataset.operatorFor);
    const valueBox = form.querySelector(`[data-value-of="${CSS.escape(operator.id)}"]`);
    const showValue = () => {
      if (valueBox) valueBox.hidden = ["IS_KNOWN", "IS_UNKNOWN"].includes(operator.value);
    };
    property.addEventListener("change", () => {
      const chosen = property.selectedOptions[0];
      const type = (chosen && chosen.dataset.type) || "string";
      const allowed = table.types[type] || table.types.string;
      const keep = allowed.includes(operator.value) ? operator.value : allowed[0];
      operator.replaceChildren(...allowed.map((op) => new Option(table.labels[op], op, false, op === keep)));
      showValue();
    });
    operator.addEventListener("change", showValue);
    showValue();
  });
  form.querySelectorAll("select[data-list-for]").forEach((property) => {
    const input = document.getElementById(property.dataset.listFor);
    if (!input) return;
    property.addEventListener("change", () => {
      const chosen = property.selectedOptions[0];
      if (chosen && chosen.dataset.list) input.setAttribute("list", chosen.dataset.list);
      else input.removeAttribute("list");
    });
  });
}

document.addEventListener("DOMContentLoaded", setUpFlowEditor);
