// Copies the text of the field a button names (data-copy-target) to the clipboard; where
// the clipboard is not available (plain http), selects the text for Ctrl+C instead.
(function () {
  document.querySelectorAll("[data-copy-target]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copyTarget);
      const status = document.getElementById("copy-status");
      try {
        await navigator.clipboard.writeText(field.value);
        if (status) status.textContent = "Link copied.";
      } catch (e) {
        field.focus();
        field.select();
        if (status) status.textContent = "Press Ctrl+C to copy the selected link.";
      }
    });
  });
})();
