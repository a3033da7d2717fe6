// The behaviours editor's running total of the weights while typing (the server checks it).
(function () {
  const form = document.getElementById("behaviours-form");
  const out = document.getElementById("weight-total");
  if (!form || !out) return;
  function update() {
    let total = 0;
    form.querySelectorAll("tr[data-row]").forEach(function (row) {
      const del = row.querySelector("input[name$='-DELETE']");
      const name = row.querySelector("input[name$='-name']");
      const weight = row.querySelector("input[name$='-weight']");
      if ((del && del.checked) || !name.value.trim()) return;
      total += parseInt(weight.value || "0", 10) || 0;
    });
    out.textContent = total + " %";
    out.classList.toggle("text-danger", total !== 100);
    out.classList.toggle("text-success", total === 100);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
