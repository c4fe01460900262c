// Renders the message log. Message data only ever reaches the page through textContent.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class MessageView {
  constructor(log, empty, newer, { onRetry }) {
    this.log = log;
    this.empty = empty;
    this.newer = newer; // "New messages" button, shown while the reader is scrolled up
    this.onRetry = onRetry;
    log.addEventListener("scroll", () => { if (this.nearBottom()) newer.hidden = true; });
    newer.addEventListener("click", () => this.scrollToEnd());
  }

  /**
   * Appends a message. entry: {own, sender, text (null when it could not be decrypted),
   * timestamp?, status: "sent" | "sending" | "failed"}. Returns the element to update later.
   */
  add(entry) {
    const stick = entry.own || this.nearBottom();
    const node = el("div", `msg ${entry.own ? "own" : "other"}`);
    const previous = this.log.lastElementChild;
    const sameAuthor = previous?.classList.contains("msg")
      && previous.classList.contains("own") === entry.own && previous.dataset.sender === entry.sender;
    node.dataset.sender = entry.sender;
    if (!sameAuthor) {
      node.classList.add("first");
      if (!entry.own) node.append(el("div", "sender", entry.sender));
    }
    const bubble = el("div", "bubble");
    if (entry.text === null) {
      node.classList.add("undecryptable");
      bubble.textContent = "🔒 This message can't be decrypted: it was sealed with a different key than the one in your link.";
    } else {
      bubble.textContent = entry.text;
    }
    node.append(bubble, el("div", "meta"));
    this.empty.hidden = true;
    this.log.append(node);
    this.update(node, entry);
    if (stick) this.scrollToEnd();
    else this.newer.hidden = false;
    return node;
  }

  /** Shows the delivery state and time of a message element. */
  update(node, { own = node.classList.contains("own"), timestamp, status = "sent", error }) {
    node.classList.toggle("own", own);
    node.classList.toggle("other", !own);
    node.dataset.status = status;
    const meta = node.querySelector(".meta");
    meta.replaceChildren();
    if (status === "sending") {
      meta.append(el("span", "state", "sending…"));
      return;
    }
    if (status === "failed") {
      meta.append(el("span", "failed", error || "Not sent."));
      const retry = el("button", "retry", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => this.onRetry(node));
      meta.append(retry);
      return;
    }
    const when = new Date(timestamp ?? Date.now());
    const time = el("time", "", timeFormat.format(when));
    time.dateTime = when.toISOString();
    time.title = fullFormat.format(when);
    meta.append(time);
    if (own) {
      const tick = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      tick.setAttribute("class", "i");
      tick.setAttribute("aria-hidden", "true");
      const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
      use.setAttribute("href", "/icons.svg#check");
      tick.append(use);
      meta.append(tick, el("span", "sr-only", "delivered"));
    }
  }

  remove(node) {
    node.remove();
  }

  nearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 120;
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
    this.newer.hidden = true;
  }
}
