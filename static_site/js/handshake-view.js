// What the page shows of the handshake (handshake.js): waiting for the other person's key,
// then the safety code to compare; or, in an alert, why their key is not used.

const $ = (id) => document.getElementById(id);

const HELLO_PROBLEMS = {
  unverifiable: "The other person's key could not be verified, so nothing is sent to it. Someone may be trying to get between you: compare safety codes another way, or start a new room.",
  conflict: "Two different keys were published for one person in this room, so the second one is not used. Compare safety codes another way before you trust this room.",
  refused: "The other person's key was refused, so nothing is sent to it. Start a new room.",
};

export function showHelloProblem({ kind }) {
  const alert = $("hello-error");
  alert.dataset.helloProblem = kind;
  alert.textContent = HELLO_PROBLEMS[kind];
  alert.hidden = false;
}

/** The session the handshake settled on (its safety code), or null while there is none. */
export function showSession(session) {
  $("e2e").dataset.state = session ? "ready" : "waiting";
  $("e2e-waiting").hidden = Boolean(session);
  $("safety").hidden = !session;
  $("safety-code").textContent = session?.safety ?? "";
}
