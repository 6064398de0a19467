// The admin UI works without this file; it only adds conveniences.
// "Select all" boxes tick every checkbox of the named group in their form.
document.querySelectorAll("input[data-select-all]").forEach((all) => {
  all.addEventListener("change", () => {
    const name = all.getAttribute("data-select-all");
    all.form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  });
});
// Buttons with data-confirm ask before they submit (deleting slots cannot be undone).
document.querySelectorAll("button[data-confirm]").forEach((button) => {
  button.addEventListener("click", (event) => {
    if (!window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
});
// Read-only fields meant to be copied (the feed address) select their whole text on focus;
// without this file they are still selectable by hand.
document.querySelectorAll("input[data-select-on-focus]").forEach((field) => {
  field.addEventListener("focus", () => field.select());
});
// Copy buttons stay hidden without this file; with it they copy their field and say so.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.getAttribute("data-copy"));
  const status = document.getElementById(button.getAttribute("data-status"));
  if (!field) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      // Without the clipboard API (a plain-http page), the selection is copied instead.
      document.execCommand("copy");
    }
    if (status) {
      status.textContent = button.getAttribute("data-copied");
    }
  });
});
