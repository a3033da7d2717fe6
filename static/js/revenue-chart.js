// Draws an account's revenue each month, stacked by product family, from the page's
// json_script data (the table beside it holds the same figures, exactly).
(function () {
  const data = JSON.parse(document.getElementById("revenue-history").textContent);
  const canvas = document.getElementById("revenue-chart");
  const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const colours = { loan: "#0d6efd", deposit: "#198754", treasury: "#6f42c1", card: "#fd7e14", other: "#6c757d" };
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.families.map((f) => ({
        label: f.label,
        data: f.data,
        backgroundColor: colours[f.family] || "#adb5bd",
        stack: "revenue",
      })),
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { callback: (v) => money.format(v) } },
      },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money.format(c.parsed.y)}` } } },
    },
  });
  // Lets a browser test see that the chart was drawn, and with what.
  canvas.dataset.chartReady = String(chart.data.labels.length);
})();
