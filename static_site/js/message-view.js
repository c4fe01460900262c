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
  "newer-version": "This message comes from a newer version of PrivoChat: reload the page to read it.",
};

// A sender's clock this far from the server's is marked beside the time it shows.
export const CLOCK_SKEW_MS = 2 * 60_000;

const plural = (n, one, many) => (n === 1 ? one : many.replace("{n}", String(n)));

/** The line under a message of theirs written before some of ours had reached them. */
export function unseenText(n) {
  return plural(n, "Written before your last message reached them.", "Written before your last {n} messages reached them.");
}

/** What the sender's clock says, against the server's, when they disagree by more than CLOCK_SKEW_MS. */
export function skewText(clock, timestamp) {
  if (!Number.isFinite(clock) || !Number.isFinite(timestamp) || Math.abs(clock - timestamp) <= CLOCK_SKEW_MS) return null;
  const minutes = Math.round(Math.abs(clock - timestamp) / 60_000);
  return `sender's clock ${plural(minutes, "1 minute", "{n} minutes")} ${clock > timestamp ? "ahead of" : "behind"} the server's`;
}

/** Own messages past "sending": the ticks, their words for a screen reader and a tooltip. */
const RECEIPTS = {
  sent: { ticks: 1, label: "Sent", title: "Sent: stored encrypted in the room; the other person's browser has not said it has it yet" },
  delivered: { ticks: 2, label: "Delivered", title: "Delivered: the other person's browser decrypted it" },
  read: { ticks: 2, label: "Read", title: "Read: it was on the other person's screen" },
  undelivered: { ticks: 1, label: "Not delivered yet", title: "Stored, but the other person's browser, though connected, has not said it has it" },
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
  constructor(log, empty, newer, { onRetry, onShown = () => {} }) {
    this.log = log;
    this.empty = empty;
    this.newer = newer; // "New messages" button, shown while the reader is scrolled up
    this.onRetry = onRetry;
    this.onShown = onShown; // a message of theirs was on screen in a visible tab (a read receipt)
    log.addEventListener("scroll", () => { if (this.nearBottom()) newer.hidden = true; });
    newer.addEventListener("click", () => this.scrollToEnd());
    this.inView = new Set();
    this.observer = typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
        for (const { target, isIntersecting } of entries) {
          if (isIntersecting) this.inView.add(target);
          else this.inView.delete(target);
        }
        this.readWhatIsShown();
      }, { root: log, threshold: 0.5 })
      : null;
    document.addEventListener("visibilitychange", () => this.readWhatIsShown());
  }

  /** Their messages on screen while the tab is visible count as read, once each. */
  readWhatIsShown() {
    if (document.visibilityState !== "visible") return;
    for (const node of this.inView) {
      this.observer.unobserve(node);
      this.inView.delete(node);
      this.onShown(node);
    }
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
    if (entry.unseen) {
      const context = el("div", "context", unseenText(entry.unseen));
      node.dataset.unseen = String(entry.unseen);
      node.append(context);
    }
    this.append(node, stick);
    node.entry = {};
    this.update(node, entry);
    if (!entry.own && entry.text !== null) this.observer?.observe(node);
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

  /** The room's lines that named someone by a placeholder ("The other person joined") name them now. */
  renameEvents(placeholder, name) {
    for (const line of this.log.querySelectorAll(".event")) {
      if (line.textContent.startsWith(placeholder)) line.textContent = name + line.textContent.slice(placeholder.length);
    }
  }

  append(node, stick) {
    this.empty.hidden = true;
    this.log.append(node);
    if (stick) this.scrollToEnd();
    else this.newer.hidden = false;
  }

  /**
   * Shows the delivery state and time of a message element; `patch` adds to what it was given
   * before ({own, timestamp, clock, status, error, waitingFor}), so a receipt only names the status.
   */
  update(node, patch) {
    const entry = Object.assign(node.entry ??= {}, patch);
    const { own = node.classList.contains("own"), timestamp, clock, status = "sent", error, waitingFor = "join" } = entry;
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
    // The time is the sender's own clock, sealed with the message; the server's only orders them.
    const when = new Date(clock ?? timestamp ?? Date.now());
    const time = el("time", "", timeFormat.format(when));
    time.dateTime = when.toISOString();
    time.title = fullFormat.format(when);
    meta.append(time);
    const skew = skewText(clock, timestamp);
    if (skew) meta.append(el("span", "note skew", skew));
    if (node.dataset.problem === "out-of-order") meta.append(el("span", "note", PROBLEMS["out-of-order"]));
    const receipt = own && !node.dataset.problem ? RECEIPTS[status] : null;
    if (receipt) {
      const mark = el("span", `receipt ${status}`);
      mark.title = receipt.title;
      for (let i = 0; i < receipt.ticks; i += 1) {
        const tick = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        tick.setAttribute("class", "i");
        tick.setAttribute("aria-hidden", "true");
        const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
        use.setAttribute("href", "/icons.svg#check");
        tick.append(use);
        mark.append(tick);
      }
      if (status === "undelivered") mark.append(el("span", "words", receipt.label));
      else mark.append(el("span", "sr-only", receipt.label));
      meta.append(mark);
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
