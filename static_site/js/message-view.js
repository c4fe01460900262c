// Renders the message log. Message data only ever reaches the page through textContent.
// A message that fails a check of the protocol is shown in place, with data-problem saying which.
// Web links in a message become <a> elements built here (http and https only, see linkify.js).
import { t } from "./i18n.js";
import { splitLinks } from "./linkify.js";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** What a page shows instead of (or beside) a message that failed a check (i18n.js keys). */
const PROBLEMS = {
  unverifiable: "msg.unverifiable",
  reflection: "msg.reflection",
  replay: "msg.replay",
  "out-of-order": "msg.outOfOrder",
  "newer-version": "msg.newerVersion",
};

// A sender's clock this far from the server's is marked beside the time it shows.
export const CLOCK_SKEW_MS = 2 * 60_000;

/** The line under a message of theirs written before some of ours had reached them. */
export function unseenText(count) {
  return t("msg.unseen", { count });
}

/** What the sender's clock says, against the server's, when they disagree by more than CLOCK_SKEW_MS. */
export function skewText(clock, timestamp) {
  if (!Number.isFinite(clock) || !Number.isFinite(timestamp) || Math.abs(clock - timestamp) <= CLOCK_SKEW_MS) return null;
  const count = Math.round(Math.abs(clock - timestamp) / 60_000);
  return t(clock > timestamp ? "msg.clockAhead" : "msg.clockBehind", { count });
}

/** Own messages past "sending": the ticks, their words (i18n keys) for a screen reader and a tooltip. */
const RECEIPTS = {
  sent: { ticks: 1, label: "msg.sent", title: "msg.sentTitle" },
  delivered: { ticks: 2, label: "msg.delivered", title: "msg.deliveredTitle" },
  read: { ticks: 2, label: "msg.read", title: "msg.readTitle" },
  undelivered: { ticks: 1, label: "msg.undelivered", title: "msg.undeliveredTitle" },
};

/**
 * What an own message whose send did not go through is: "pending" when it will go out by
 * itself (the network or the server is away, or asked to slow down: the page tries again, see
 * room.js), "failed" when it will not without the person (the server refused it for good).
 * `online`: whether the browser has a network. Returns {status, text}.
 */
export function deliveryOf(error, online) {
  const status = error?.status ?? 0;
  if (status === 413 || status === 422 || status === 400) return { status: "failed", text: t("msg.invalid") };
  if (!online) return { status: "pending", text: t("msg.pendingOffline") };
  if (status === 429) return { status: "pending", text: t("msg.pendingBusy") };
  if (status === 0 || status === 401 || status >= 500) return { status: "pending", text: t("msg.pendingServer") };
  return { status: "failed", text: t("msg.notSent") };
}

/** Text a person wrote (a message, a name) takes its own direction from its first strong
 * letter, whatever the page's (dir="auto"). */
function withDirection(node) {
  node.dir = "auto";
  return node;
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
   * timestamp?, status: "waiting" | "sending" | "pending" | "sent" | "failed", problem?}. Returns the element to update later.
   */
  add(entry) {
    if (entry.problem === "earlier-keys") return this.addEarlier();
    const stick = entry.own || this.nearBottom();
    const node = el("div", `msg ${entry.own ? "own" : "other"}`);
    const sender = entry.sender ?? "";
    const previous = this.log.lastElementChild;
    const sameAuthor = previous?.classList.contains("msg") && !previous.classList.contains("gap")
      && previous.classList.contains("own") === entry.own && previous.dataset.sender === sender;
    node.dataset.sender = sender;
    if (!sameAuthor) {
      node.classList.add("first");
      if (!entry.own && sender) node.append(withDirection(el("div", "sender", sender)));
    }
    const bubble = withDirection(el("div", "bubble")); // Arabic or Hebrew reads right to left
    if (entry.problem) node.dataset.problem = entry.problem;
    if (entry.text === null) {
      node.classList.add("undecryptable");
      bubble.textContent = t(PROBLEMS[entry.problem] ?? PROBLEMS.unverifiable);
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

  /**
   * Messages sent before this browser reopened the room, whose keys it no longer holds: one
   * compact line that counts them ("5 earlier messages can't be read in this browser"), not a
   * bubble each. Consecutive ones share the line; it is their handle.
   */
  addEarlier() {
    const last = this.log.lastElementChild;
    if (last?.classList.contains("earlier")) {
      this.countEarlier(last, Number(last.dataset.count) + 1);
      return last;
    }
    const node = el("div", "msg earlier");
    node.dataset.problem = "earlier-keys";
    node.setAttribute("role", "note");
    node.title = t("msg.earlierKeysWhy");
    this.countEarlier(node, 1);
    this.append(node, this.nearBottom());
    return node;
  }

  countEarlier(node, count) {
    node.dataset.count = String(count);
    node.textContent = t("msg.earlierKeys", { count });
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
    node.textContent = t("msg.gap", { count: missing });
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
      if (line.textContent.includes(placeholder)) line.textContent = line.textContent.replace(placeholder, name);
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
    if (node.classList.contains("earlier")) return; // a line, not a bubble: no state, no time
    const entry = Object.assign(node.entry ??= {}, patch);
    const { own = node.classList.contains("own"), timestamp, clock, status = "sent", error, waitingFor = "join" } = entry;
    node.classList.toggle("own", own);
    node.classList.toggle("other", !own);
    node.dataset.status = status;
    const meta = node.querySelector(".meta");
    meta.replaceChildren();
    if (status === "waiting") {
      meta.append(el("span", "state", t(waitingFor === "accept" ? "msg.waitingAccept" : "msg.waitingJoin")));
      return;
    }
    if (status === "sending") {
      meta.append(el("span", "state", t("msg.sending")));
      return;
    }
    if (status === "pending" || status === "failed") {
      // Pending is neutral and says what will happen; failed is red and needs the person.
      meta.append(el("span", status, error || t("msg.notSent")));
      const retry = el("button", "retry", t(status === "pending" ? "msg.sendNow" : "msg.retry"));
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
    if (node.dataset.problem === "out-of-order") meta.append(el("span", "note", t(PROBLEMS["out-of-order"])));
    const receipt = own && !node.dataset.problem ? RECEIPTS[status] : null;
    if (receipt) {
      // ✓ stored, ✓✓ delivered (the other browser decrypted it), read: each from a sealed receipt.
      const mark = el("span", `receipt ${status}`);
      mark.title = t(receipt.title);
      for (let i = 0; i < receipt.ticks; i += 1) {
        const tick = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        tick.setAttribute("class", "i");
        tick.setAttribute("aria-hidden", "true");
        const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
        use.setAttribute("href", "/icons.svg#check");
        tick.append(use);
        mark.append(tick);
      }
      if (status === "undelivered") mark.append(el("span", "words", t(receipt.label)));
      else mark.append(el("span", "sr-only", t(receipt.label)));
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
