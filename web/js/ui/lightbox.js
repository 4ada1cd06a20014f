// The lightbox: one image large, or a batch stepped through with ‹ › (ArrowLeft / ArrowRight),
// closed by a click outside the buttons or Escape. Keys it handles do not reach the canvas.

const $ = (id) => document.getElementById(id);
let current = null; // {urls, index} while open

function button(cls, text, title, onClick) {
  const el = document.createElement("button");
  el.className = cls;
  el.textContent = text;
  el.title = title;
  el.addEventListener("click", (e) => { e.stopPropagation(); onClick(); });
  return el;
}

function parts() {
  const box = $("lightbox");
  if (!box.querySelector(".lightbox-prev")) {
    const counter = document.createElement("span");
    counter.className = "lightbox-counter";
    box.append(button("lightbox-prev", "‹", "Previous image (←)", () => step(-1)),
      button("lightbox-next", "›", "Next image (→)", () => step(1)), counter);
    box.addEventListener("click", closeLightbox);
    window.addEventListener("keydown", onKey, true);
  }
  return { box, image: $("lightbox-image"), counter: box.querySelector(".lightbox-counter") };
}

function show() {
  const { box, image, counter } = parts();
  const many = current.urls.length > 1;
  image.src = current.urls[current.index];
  counter.textContent = many ? `${current.index + 1} / ${current.urls.length}` : "";
  for (const el of box.querySelectorAll(".lightbox-prev, .lightbox-next")) el.hidden = !many;
  box.dataset.index = String(current.index);
  box.hidden = false;
}

function step(delta) {
  if (!current) return;
  const n = current.urls.length;
  current.index = (current.index + delta + n) % n;
  show();
}

function onKey(e) {
  if (!current) return;
  const handled = { ArrowLeft: () => step(-1), ArrowRight: () => step(1), Escape: closeLightbox }[e.key];
  if (!handled) return;
  e.preventDefault();
  e.stopPropagation();
  handled();
}

/** Show `urls[index]`, with stepping through the others. */
export function openLightbox(urls, index = 0) {
  current = { urls: [...urls], index: Math.min(Math.max(0, index), urls.length - 1) };
  show();
}

export function closeLightbox() {
  current = null;
  $("lightbox").hidden = true;
}
