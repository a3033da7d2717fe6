// Draws a report card's 12-month trends from the page's json_script data: one small chart
// per canvas[data-series] ("overall" or the behaviour's index), the share good or
// excellent each month (solid) against the objective (dashed). Missing months are gaps.
(function () {
  const source = document.getElementById("report-card-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const pct = (v) => (v === null || v === undefined ? "no ratings" : `${v.toFixed(2)} %`);
  document.querySelectorAll("canvas[data-series]").forEach(function (canvas) {
    const key = canvas.dataset.series;
    const series = key === "overall" ? data.overall : data.behaviours[Number(key)];
    if (!series) return;
    const below = series.shares.map((v) => v !== null && series.objective !== null && v < series.objective);
    const chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: "Good or excellent",
            data: series.shares,
            borderColor: "#0d6efd",
            backgroundColor: "#0d6efd33",
            // Monotone curves never overshoot 0 or 100 % between two months.
            cubicInterpolationMode: "monotone",
            pointRadius: 3,
            pointBackgroundColor: below.map((b) => (b ? "#dc3545" : "#0d6efd")),
            spanGaps: false,
            clip: 6, // a point at 0 or 100 % is drawn whole
          },
          {
            label: "Objective",
            data: data.labels.map(() => series.objective),
            borderColor: "#6c757d",
            borderDash: [6, 4],
            borderWidth: 1.5,
            pointRadius: 0,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { min: 0, max: 100, ticks: { stepSize: 25, callback: (v) => `${v} %` } },
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${pct(c.parsed.y)}` } },
        },
      },
    });
    // Lets a browser test see that the chart was drawn, and with what.
    canvas.dataset.chartReady = String(chart.data.labels.length);
  });
})();
