// Notifications while the room's tab is in the background. Permission is asked only when the
// person clicks "Notify me"; a notification says who wrote, never what (the text stays in the page).
// Without them, the tab's title counts what came meanwhile (UnreadTitle).
import { t } from "./i18n.js";


const PREFERENCE = "privochat.notify";

export class Notifier {
  /** button: a toggle (aria-pressed); label: its text; toast(message) to explain a refusal. */
  constructor({ button, label, tag, toast }) {
    this.button = button;
    this.label = label;
    this.tag = tag;
    this.toast = toast;
    this.supported = typeof window.Notification === "function";
    let wanted = false;
    try {
      wanted = localStorage.getItem(PREFERENCE) === "on";
    } catch {
      // storage blocked: off until clicked
    }
    this.enabled = this.supported && wanted && Notification.permission === "granted";
    if (!this.supported) return;
    button.hidden = false;
    button.addEventListener("click", () => this.toggle());
    this.render();
  }

  async toggle() {
    if (this.enabled) {
      this.set(false);
      return;
    }
    let permission = Notification.permission;
    if (permission === "default") permission = await Notification.requestPermission();
    if (permission === "granted") {
      this.set(true);
      this.toast(t("notify.granted"));
    } else {
      this.toast(t("notify.blocked"), "error");
    }
  }

  set(enabled) {
    this.enabled = enabled;
    try {
      localStorage.setItem(PREFERENCE, enabled ? "on" : "off");
    } catch {
      // storage blocked: for this page only
    }
    this.render();
  }

  render() {
    this.button.setAttribute("aria-pressed", String(this.enabled));
    this.label.textContent = this.enabled ? t("notify.on") : t("notify.off");
    this.button.title = this.enabled ? t("notify.onTitle") : t("notify.offTitle");
  }

  /** Shows a notification if they are on and the tab is not visible. */
  notify(title, body) {
    if (!this.enabled || document.visibilityState === "visible" || Notification.permission !== "granted") return;
    try {
      const note = new Notification(title, { body, tag: this.tag, icon: "/favicon.svg" });
      note.addEventListener("click", () => {
        window.focus();
        note.close();
      });
    } catch {
      // some mobile browsers allow notifications only from a service worker: the title count remains
    }
  }
}

const TITLE = () => t("room.title");

/** While the tab is in the background, its title counts new messages; seeing the tab clears it. */
export class UnreadTitle {
  constructor(doc = document) {
    this.doc = doc;
    this.unread = 0;
    doc.addEventListener("visibilitychange", () => {
      if (doc.visibilityState !== "visible") return;
      this.unread = 0;
      doc.title = TITLE();
    });
  }

  count() {
    if (this.doc.visibilityState === "visible") return;
    this.unread += 1;
    this.doc.title = `(${this.unread}) ${TITLE()}`;
  }
}
