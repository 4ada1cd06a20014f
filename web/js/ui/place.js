// Keeping popups (menus, the search box, editors) inside the window.

/**
 * Put fixed-position `element` at (x, y), moved left/up just enough to stay inside the window; when
 * it opens from a row (`flipX`: the row's left edge), it flips to that side instead of covering it.
 */
export function keepInside(element, x, y, flipX = null) {
  const margin = 4;
  const { innerWidth, innerHeight } = window;
  element.style.maxHeight = `${innerHeight - 2 * margin}px`;
  const { width, height } = element.getBoundingClientRect();
  let left = x;
  if (left + width > innerWidth - margin) left = flipX !== null && flipX - width >= margin ? flipX - width : innerWidth - width - margin;
  const top = Math.min(y, innerHeight - height - margin);
  element.style.left = `${Math.max(margin, left)}px`;
  element.style.top = `${Math.max(margin, top)}px`;
}
