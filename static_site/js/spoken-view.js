// The message view as the conversation drives it: a send that did not go through is pending
// (it goes by itself: the resender tries again) or failed (it will not without the person); and
// what a screen reader is told (live.js): the other person's new message once, "read" and "not
// delivered yet" once when they change (a burst of them once), nothing of a history (re)drawn.
import { t } from "./i18n.js";
import { deliveryOf } from "./message-view.js";

const SAID_AGAIN_AFTER_MS = 2000;
const RECEIPTS_SAID = { read: "live.read", undelivered: "live.undelivered" };

/**
 * view: a MessageView; announcer: an Announcer; resender: a Resender (resend.js); settled() ->
 * whether the first history is drawn; otherPerson() -> the other's name or its placeholder;
 * keysToAccept() -> whether a message waits for the person to accept new keys (not for a join).
 */
export function spokenView({ view, announcer, resender, settled, otherPerson, keysToAccept }) {
  let said = null; // {key, at}: the last receipt said
  const shown = (patch) => {
    if (patch.status === "sent") resender.sent();
    if (patch.status === "waiting" && keysToAccept()) return { ...patch, waitingFor: "accept" };
    if (patch.status !== "failed") return patch;
    const { status, text } = deliveryOf(patch.error, navigator.onLine);
    if (status === "pending") resender.pending();
    return { ...patch, status, error: text };
  };
  return {
    add(entry) {
      if (settled() && !entry.own && entry.text !== null) {
        announcer.say(t("live.message", { name: entry.sender || otherPerson(), text: entry.text }));
      }
      return view.add(entry);
    },
    update(node, patch) {
      const key = settled() && node.dataset.status !== patch.status && RECEIPTS_SAID[patch.status];
      if (key && !(key === said?.key && Date.now() - said.at < SAID_AGAIN_AFTER_MS)) announcer.say(t(key));
      if (key) said = { key, at: Date.now() };
      view.update(node, shown(patch));
    },
    remove: (node) => view.remove(node),
    addGap: (missing) => view.addGap(missing),
    updateGap: (node, missing) => view.updateGap(node, missing),
    removeGap: (node) => view.removeGap(node),
  };
}
