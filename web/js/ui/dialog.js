// Small modal dialogs (confirm with several choices, text prompt) built from DOM nodes; every
// string goes in as textContent or an input's value.

export function modal(title, message) {
  const backdrop = document.createElement("div");
  backdrop.className = "dialog-backdrop";
  const box = document.createElement("div");
  box.className = "dialog";
  box.setAttribute("role", "dialog");
  const heading = document.createElement("h3");
  heading.textContent = title;
  box.append(heading);
  if (message) {
    const text = document.createElement("p");
    text.textContent = message;
    box.append(text);
  }
  backdrop.append(box);
  document.body.append(backdrop);
  return { backdrop, box };
}

function buttonRow(box, buttons, finish) {
  const row = document.createElement("div");
  row.className = "dialog-buttons";
  for (const { label, value, primary } of buttons) {
    const button = document.createElement("button");
    button.textContent = label;
    button.dataset.value = String(value);
    if (primary) button.className = "primary";
    button.addEventListener("click", () => finish(value));
    row.append(button);
  }
  box.append(row);
  return row;
}

/** Resolve with the chosen button's value; Escape gives `cancel`, Enter the primary button. */
export function choose(title, message, buttons, cancel = null) {
  return new Promise((resolve) => {
    const { backdrop, box } = modal(title, message);
    const finish = (value) => { backdrop.remove(); document.removeEventListener("keydown", onKey, true); resolve(value); };
    const onKey = (e) => {
      e.stopPropagation();
      if (e.key === "Escape") { e.preventDefault(); finish(cancel); }
      if (e.key === "Enter") { e.preventDefault(); const primary = buttons.find((b) => b.primary); finish(primary ? primary.value : cancel); }
    };
    document.addEventListener("keydown", onKey, true);
    buttonRow(box, buttons, finish);
    box.querySelector("button.primary")?.focus();
  });
}

/** Resolve with the entered text, or null when cancelled. */
export function ask(title, label, value = "", okLabel = "OK") {
  return new Promise((resolve) => {
    const { backdrop, box } = modal(title, label);
    const field = document.createElement("input");
    field.className = "dialog-input";
    field.value = value;
    box.append(field);
    const finish = (ok) => { backdrop.remove(); resolve(ok && field.value.trim() ? field.value.trim() : null); };
    field.addEventListener("keydown", (e) => {
      e.stopPropagation();
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    buttonRow(box, [{ label: "Cancel", value: false }, { label: okLabel, value: true, primary: true }], finish);
    field.focus();
    field.select();
  });
}
