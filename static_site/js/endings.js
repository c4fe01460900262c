// How a room ends for this browser, and what the lobby then says. The room page leaves for
// the lobby with an ending in its query (room.js), and the lobby shows that ending's notice
// (lobby.js): one table for both, so neither can name an ending the other does not know.

/** Each ending: the lobby's query, and its notice: tone, title, detail. */
export const ENDINGS = {
  notFound: ["error=room-not-found", "danger", "That room doesn't exist.", "It may have expired or been destroyed, or the link is incomplete."],
  full: ["error=room-full", "danger", "That room is full.", "A PrivoChat room holds exactly two people, and both seats are taken."],
  badLink: ["error=bad-link", "danger", "That isn't a PrivoChat room link.", "Check that you copied the whole link."],
  destroyed: ["destroyed=1", "info", "The room was destroyed.", "Every message in it has been deleted for both of you."],
  destroyedByYou: ["destroyed=you", "info", "You destroyed the room.", "The room was destroyed for both of you: every message in it is deleted, and its link opens nothing now."],
  expired: ["expired=1", "warn", "The room expired.", "Its time ran out, and every message in it has been deleted."],
  left: ["left=1", "info", "You left the room.", "Its keys are deleted from this browser."],
};

const EXPIRED_WITHIN_MS = 5000; // a room that vanishes this close to its end ran out of time

/** The lobby's address for an ending. */
export function lobbyUrl(ending) {
  return `/?${ENDINGS[ending][0]}`;
}

/** The ending a lobby's query names, with its notice; null for none. */
export function endingOf(search) {
  const params = new URLSearchParams(search);
  for (const [ending, [query, tone, title, detail]] of Object.entries(ENDINGS)) {
    const [key, value] = query.split("=");
    if (params.get(key) === value) return { ending, tone, title, detail };
  }
  return null;
}

/** The room vanished under the page (a 404): it ran out of time, or someone destroyed it. */
export function vanished({ msLeft, destroying }) {
  if (msLeft < EXPIRED_WITHIN_MS) return "expired";
  return destroying ? "destroyedByYou" : "destroyed";
}

/**
 * Where a refused join leads: "wrong-key" (the page asks for the whole link again), an
 * ending, "vanished" (taking back a seat we held: the room is gone), or null (the page
 * says what failed, in place). `rejoining`: this page already sat in the room.
 */
export function afterRefusedJoin(status, { rejoining = false } = {}) {
  if (status === 403) return "wrong-key";
  if (status === 409) return "full";
  if (status === 404) return rejoining ? "vanished" : "notFound";
  if (status === 400 && !rejoining) return "badLink";
  return null;
}
