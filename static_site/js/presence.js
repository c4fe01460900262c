// Who is here, said in the header's chip ("Both here", "1 of 2 here", "Connecting…",
// "Offline") and as "joined", "left" and "is back" lines in the log, from the counts the
// server sends; and "… is typing…". The decisions are made here; the page is reached
// only through the functions given, so they run in a test with a fake clock.
import { t } from "./i18n.js";

const LEFT_AFTER_MS = 6000; // a reload is not "left": only an absence that lasts
const TYPING_SHOWN_MS = 5000; // longer than the 4 s between two typing signals (composer.js), so it does not flicker

export class Presence {
  /**
   * show(state, text): the chip; announce(line, kind): a "joined", "back" or "left" line;
   * full(): both seats are taken; isOpen(): whether the socket is open; who(): the other's name.
   */
  constructor({ show, announce, full, isOpen, who, online = true, timers = globalThis }) {
    Object.assign(this, { show, announce, full, isOpen, who, online, timers });
    this.lastCount = null; // people here, as the server last said
    this.otherHere = null; // null until the first count
    this.everJoined = false;
    this.leftTimer = null;
  }

  /** Whoever is here, from a pong (ours) or a push (theirs); a push that changes it is said in the log. */
  count(count, pushed) {
    this.lastCount = count;
    const here = count >= 2;
    if (here) this.full();
    if (pushed && this.otherHere !== null && here !== this.otherHere) {
      if (here) this.arrived();
      else {
        this.timers.clearTimeout(this.leftTimer);
        this.leftTimer = this.timers.setTimeout(() => {
          this.leftTimer = null;
          this.announce(t("presence.left", { name: this.who() }), "left");
        }, LEFT_AFTER_MS);
      }
    } else if (here && this.otherHere === null) {
      this.everJoined = true;
    }
    this.otherHere = here;
    this.render();
  }

  arrived() {
    if (this.leftTimer) { // back before anyone noticed they were gone (a reload)
      this.timers.clearTimeout(this.leftTimer);
      this.leftTimer = null;
      return;
    }
    const who = this.who();
    if (this.everJoined) this.announce(t("presence.back", { name: who }), "back");
    else this.announce(t("presence.joined", { name: who }), "joined");
    this.everJoined = true;
  }

  setOnline(online) {
    this.online = online;
    this.render();
  }

  /** The socket's own state, while online: "Offline" says more than "Reconnecting…". */
  socketState(state) {
    if (!this.online) return;
    if (state === "connecting") this.show("connecting", t("presence.connecting"));
    if (state === "reconnecting") this.show("offline", t("presence.reconnecting"));
  }

  render() {
    if (!this.online) this.show("offline", t("presence.offline"));
    else if (this.lastCount === null || !this.isOpen()) this.show("connecting", t("presence.connecting"));
    else if (this.lastCount >= 2) this.show("both", t("presence.both"));
    else this.show("alone", t("presence.alone"));
  }
}

/** The header's chip: data-state for its colour, and its words. */
export function showPresence(state, text) {
  document.getElementById("presence").dataset.state = state;
  document.getElementById("presence-text").textContent = text;
}

/** "… is typing…" in `node` for a few seconds after each signal, or until their message comes. */
export class Typing {
  constructor(node, who, timers = globalThis) {
    Object.assign(this, { node, who, timers });
    this.timer = null;
  }

  show() {
    this.node.textContent = t("presence.typing", { name: this.who() });
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.hide(), TYPING_SHOWN_MS);
  }

  hide() {
    this.timers.clearTimeout(this.timer);
    this.node.textContent = "";
  }
}
