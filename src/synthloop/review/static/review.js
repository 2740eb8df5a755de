// Keyboard shortcuts for the fast path. a: accept, r: reject (choose a reason, then Enter), e: edit
// (Ctrl+Enter saves), t: tag, Left/Right: previous/next item. Keys typed into a field are left alone.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement;
  if (typing) {
    if (event.key === "Enter" && event.ctrlKey && target.id === "edit-text") {
      event.preventDefault();
      document.getElementById("edit-form").requestSubmit();
    } else if (event.key === "Escape") {
      target.blur();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const click = (id) => { const el = document.getElementById(id); if (el && !el.hidden) { el.click(); return true; } return false; };
  const focus = (id) => { const el = document.getElementById(id); if (el) { el.focus(); return true; } return false; };
  let handled = false;
  if (event.key === "a") handled = click("accept");
  else if (event.key === "r") handled = focus("reason");
  else if (event.key === "e") handled = focus("edit-text");
  else if (event.key === "t") handled = focus("tags");
  else if (event.key === "ArrowRight") handled = click("next");
  else if (event.key === "ArrowLeft") handled = click("prev");
  if (handled) event.preventDefault();
});
// A reason chosen from the keyboard submits the reject (unless 'other', which needs a note).
document.addEventListener("change", (event) => {
  if (event.target.id === "reason" && event.target.value && event.target.value !== "other") {
    document.getElementById("reject-form").requestSubmit();
  } else if (event.target.id === "reason" && event.target.value === "other") {
    document.getElementById("reject-note").focus();
  }
});
