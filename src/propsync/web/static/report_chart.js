// A report's chart, drawn by the vendored Chart.js from the figures table below it (the
// table is the page's data, and works without script). The page's CSP allows no inline
// script, so the chart's data is read from the table's rows.
"use strict";

(function () {
  const COLOURS = ["#2f6fde", "#e07b39", "#3aa776", "#c94f7c", "#8a63d2", "#d4a72c",
                   "#3ab0c4", "#7a8699", "#b5563a", "#5c9e3a"];

  function rowsOf(table) {
    return Array.from(table.querySelectorAll("tbody tr[data-label]")).map((row) => ({
      label: row.dataset.label,
      value: row.dataset.value === "" ? null : Number(row.dataset.value),
    }));
  }

  function draw(canvas) {
    const table = document.getElementById(canvas.dataset.figures);
    if (!table || typeof window.Chart !== "function") return;
    const rows = rowsOf(table);
    const kind = canvas.dataset.chartType;
    const type = { BAR: "bar", COLUMN: "bar", PIE: "pie", LINE: "line" }[kind] || "bar";
    const measure = table.querySelector("thead th:last-child").textContent.trim();
    const colours = rows.map((_, i) => COLOURS[i % COLOURS.length]);
    const chart = new window.Chart(canvas, {
      type,
      data: {
        labels: rows.map((r) => r.label),
        datasets: [{
          label: measure,
          data: rows.map((r) => r.value),
          backgroundColor: type === "line" ? COLOURS[0] : colours,
          borderColor: type === "line" ? COLOURS[0] : colours,
          tension: 0.2,
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: kind === "BAR" ? "y" : "x",
        plugins: { legend: { display: type === "pie" } },
      },
    });
    canvas.dataset.drawn = String(chart.data.labels.length);
  }

  function start() {
    document.querySelectorAll("canvas[data-chart-type]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
