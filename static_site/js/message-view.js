// Renders the message log. Message data only ever reaches the page through textContent.
// A message that fails a check of the protocol is shown in place, with data-problem saying which.
// Web links in a message become <a> elements built here (http and https only, see linkify.js).
import { splitLinks } from "./linkify.js";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** What a page shows instead of (or beside) a message that failed a check. */
const PROBLEMS = {
  unverifiable: "This message could not be verified: it was not sealed by the other person for this room, so it is not shown.",
  "earlier-keys": "Sent before you reopened this room: this browser no longer holds the keys to read it.",
  reflection: "Your own message was handed back as if the other person had written it. It is not shown again.",
  replay: "A copy of a message already shown was delivered again. It is not shown twice.",
  "out-of-order": "arrived out of order",
};

/** What a bubble says when its send failed (`online`: whether the browser has a network). */
export function failureText(error, online) {
  if (error.status === 413 || error.status === 422 || error.status === 400) return "Not sent: too long or invalid.";
  if (error.status === 429) return "Not sent: slow down a moment.";
  if (!online) return "Offline: sends when you're back.";
  return "Not sent.";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text nodes and, for each http(s) link, an <a> that opens in a new tab without a referrer or opener. */
function textWithLinks(text) {
  return splitLinks(text).map(({ text: piece, href }) => {
    if (!href) return document.createTextNode(piece);
    const link = el("a", "", piece);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  });
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
   * Appends a message. entry: {own, sender (null when unknown), text (null when not shown),
   * timestamp?, status: "waiting" | "sending" | "sent" | "failed", problem?}. Returns the element to update later.
   */
  add(entry) {
    const stick = entry.own || this.nearBottom();
    const node = el("div", `msg ${entry.own ? "own" : "other"}`);
    const sender = entry.sender ?? "";
    const previous = this.log.lastElementChild;
    const sameAuthor = previous?.classList.contains("msg") && !previous.classList.contains("gap")
      && previous.classList.contains("own") === entry.own && previous.dataset.sender === sender;
    node.dataset.sender = sender;
    if (!sameAuthor) {
      node.classList.add("first");
      if (!entry.own && sender) node.append(el("div", "sender", sender));
    }
    const bubble = el("div", "bubble");
    if (entry.problem) node.dataset.problem = entry.problem;
    if (entry.text === null) {
      node.classList.add("undecryptable");
      bubble.textContent = PROBLEMS[entry.problem] ?? PROBLEMS.unverifiable;
    } else {
      bubble.append(...textWithLinks(entry.text));
    }
    node.append(bubble, el("div", "meta"));
    this.append(node, stick);
    this.update(node, entry);
    return node;
  }

  /** A marker where `missing` messages of the other side may be missing. */
  addGap(missing) {
    const node = el("div", "msg gap");
    node.dataset.problem = "gap";
    node.setAttribute("role", "note");
    this.updateGap(node, missing);
    this.append(node, this.nearBottom());
    return node;
  }

  updateGap(node, missing) {
    node.dataset.missing = String(missing);
    node.textContent = missing === 1 ? "A message may be missing here." : `${missing} messages may be missing here.`;
  }

  removeGap(node) {
    node.remove();
  }

  /** A line about the room itself ("joined", "left"), between messages. */
  addEvent(text, kind) {
    const node = el("div", "event", text);
    node.dataset.event = kind;
    const stick = this.nearBottom();
    this.log.insertBefore(node, this.empty.hidden ? null : this.empty); // the first card stays until a message
    if (stick) this.scrollToEnd();
    return node;
  }

  append(node, stick) {
    this.empty.hidden = true;
    this.log.append(node);
    if (stick) this.scrollToEnd();
    else this.newer.hidden = false;
  }

  /** Shows the delivery state and time of a message element. */
  update(node, { own = node.classList.contains("own"), timestamp, status = "sent", error, waitingFor = "join" }) {
    node.classList.toggle("own", own);
    node.classList.toggle("other", !own);
    node.dataset.status = status;
    const meta = node.querySelector(".meta");
    meta.replaceChildren();
    if (status === "waiting") {
      meta.append(el("span", "state", waitingFor === "accept" ? "Sends once you accept the new keys" : "Sends when they join"));
      return;
    }
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
    if (node.dataset.problem === "out-of-order") meta.append(el("span", "note", PROBLEMS["out-of-order"]));
    if (own && !node.dataset.problem) {
      // ✓ means stored by the server, sealed, for the other person to fetch: not that they read it.
      const sent = el("span", "sent");
      sent.title = "Sent: stored encrypted in the room for the other person";
      const tick = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      tick.setAttribute("class", "i");
      tick.setAttribute("aria-hidden", "true");
      const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
      use.setAttribute("href", "/icons.svg#check");
      tick.append(use);
      sent.append(tick, el("span", "sr-only", "Sent"));
      meta.append(sent);
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
