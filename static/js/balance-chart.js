// Draws an account's month-end loan and deposit balances from the page's json_script data.
(function () {
  const data = JSON.parse(document.getElementById("balance-history").textContent);
  const canvas = document.getElementById("balance-chart");
  const money = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const chart = new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Loans", data: data.loan, borderColor: "#0d6efd", backgroundColor: "#0d6efd33", tension: 0.2, pointRadius: 2 },
        { label: "Deposits", data: data.deposit, borderColor: "#198754", backgroundColor: "#19875433", tension: 0.2, pointRadius: 2 },
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { callback: (v) => money.format(v) } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${money.format(c.parsed.y)}` } } },
    },
  });
  // Lets a browser test see that the chart was drawn, and with what.
  canvas.dataset.chartReady = String(chart.data.labels.length);
})();
