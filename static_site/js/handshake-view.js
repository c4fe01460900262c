// What the page shows of the handshake (handshake.js): waiting for the other person's key,
// then the safety code to compare; or, in an alert, why their key is not used.

import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

const HELLO_PROBLEMS = ["unverifiable", "conflict", "refused", "unfinished", "abandoned"]; // hello.<kind>

export function showHelloProblem({ kind }) {
  const alert = $("hello-error");
  alert.dataset.helloProblem = kind;
  alert.textContent = HELLO_PROBLEMS.includes(kind) ? t(`hello.${kind}`) : t("hello.refused");
  alert.hidden = false;
}

/** The session the handshake settled on (its safety code, compared or not), or null while there is none. */
export function showSession(session) {
  $("e2e").dataset.state = session ? "ready" : "waiting";
  $("e2e-waiting").hidden = Boolean(session);
  $("safety").hidden = !session;
  $("safety-code").textContent = session?.safety ?? "";
  const verified = Boolean(session?.verified);
  const badge = $("verified");
  if (badge.dataset.verified !== String(verified)) {
    badge.dataset.verified = String(verified);
    badge.textContent = verified ? t("room.verified") : t("room.notVerified");
  }
  $("compared").hidden = verified;
}

/** Whether messages may be sealed with this session: not while a key change waits for the person. */
export function usable(session) {
  return Boolean(session) && (!session.keyChange || session.accepted);
}

/**
 * A key change the person has not accepted: a modal they must answer (Escape does not close it).
 * onAnswer("accept" | "destroy") once they do.
 */
export function showKeyChange(session, onAnswer) {
  const dialog = $("key-change");
  $("key-change-code").textContent = session.safety;
  document.body.dataset.keyChange = session.epoch;
  if (dialog.open) return;
  dialog.oncancel = (event) => event.preventDefault();
  dialog.onclose = () => {
    const answer = dialog.returnValue;
    dialog.returnValue = "";
    if (answer === "accept" || answer === "destroy") onAnswer(answer);
    else dialog.showModal();
  };
  dialog.showModal();
}

export function hideKeyChange() {
  delete document.body.dataset.keyChange;
  const dialog = $("key-change");
  if (dialog.open) {
    dialog.onclose = null;
    dialog.close();
  }
}
