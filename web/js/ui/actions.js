// Every editor action by name, with its shortcuts: one list read by the keyboard handler, the
// command palette and the shortcuts help, so the three never disagree.

/** "Ctrl+Shift+V", "ArrowLeft", "?" ... for a keydown event (Shift is implied by printed symbols). */
export function eventKey(e) {
  const named = e.key.length > 1;
  const letter = /^[a-z]$/i.test(e.key);
  const parts = [];
  if (e.ctrlKey || e.metaKey) parts.push("Ctrl");
  if (e.altKey) parts.push("Alt");
  if (e.shiftKey && (named || letter)) parts.push("Shift");
  parts.push(letter ? e.key.toUpperCase() : e.key === " " ? "Space" : e.key);
  return parts.join("+");
}

export class ActionRegistry {
  constructor() {
    this.actions = [];
    this.byKey = new Map();
  }

  /** action: {id, name, keys?: ["Ctrl+C"], run(), when?() -> bool, hidden?}. Several actions may share a
   * key: the one added last whose `when` holds runs (Ctrl+Shift+Enter: selected outputs, else queue front). */
  add(action) {
    const entry = { keys: [], when: () => true, ...action };
    this.actions = this.actions.filter((a) => a.id !== entry.id).concat(entry);
    for (const [key, list] of this.byKey) this.byKey.set(key, list.filter((a) => a.id !== entry.id));
    for (const key of entry.keys) this.byKey.set(key, [...(this.byKey.get(key) || []), entry]);
    return entry;
  }

  get(id) { return this.actions.find((a) => a.id === id) || null; }

  forEvent(e) {
    const list = this.byKey.get(eventKey(e)) || [];
    for (let i = list.length - 1; i >= 0; i--) if (list[i].when()) return list[i];
    return null;
  }

  run(id) {
    const action = this.get(id);
    if (action && action.when()) { action.run(); return true; }
    return false;
  }
}
