// The page's short notices (#toast): one at a time, the newest in place of the last, each
// shown for a few seconds. tone "error" for what went wrong.

const SHOWN_MS = 2600;
let timer = null;

export function toast(message, tone = "") {
  const node = document.getElementById("toast");
  node.textContent = message;
  node.dataset.tone = tone;
  node.dataset.show = "";
  clearTimeout(timer);
  timer = setTimeout(() => delete node.dataset.show, SHOWN_MS);
}
