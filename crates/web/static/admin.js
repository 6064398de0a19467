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
