// Draws the forecast-accuracy history from the page's json_script data: the frozen forecast
// and the amount won as bars, the month's accuracy and the year's standard as lines.
(function () {
  const data = JSON.parse(document.getElementById("accuracy-history").textContent);
  const canvas = document.getElementById("accuracy-chart");
  const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const datasets = [
    { type: "bar", label: "Forecast (frozen)", data: data.forecast, backgroundColor: "#0d6efd99", yAxisID: "y" },
    { type: "bar", label: "Won", data: data.won, backgroundColor: "#19875499", yAxisID: "y" },
    { type: "line", label: "Accuracy %", data: data.accuracy, borderColor: "#fd7e14", backgroundColor: "#fd7e14", yAxisID: "pct", tension: 0.2, spanGaps: true },
  ];
  if (data.standard !== null) {
    datasets.push({ type: "line", label: "Standard %", data: data.labels.map(() => data.standard), borderColor: "#6c757d", borderDash: [6, 4], pointRadius: 0, yAxisID: "pct" });
  }
  const chart = new Chart(canvas, {
    data: { labels: data.labels, datasets },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, position: "left", ticks: { callback: (v) => money.format(v) } },
        pct: { min: 0, max: 100, position: "right", grid: { drawOnChartArea: false }, ticks: { callback: (v) => `${v} %` } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (c) => (c.dataset.yAxisID === "pct" ? `${c.dataset.label}: ${c.parsed.y}` : `${c.dataset.label}: ${money.format(c.parsed.y)}`),
          },
        },
      },
    },
  });
  // Lets a browser test see that the chart was drawn, and with what.
  canvas.dataset.chartReady = String(chart.data.labels.length);
})();
