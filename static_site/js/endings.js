// How a room ends for this browser, and what the lobby then says. The room page leaves for
// the lobby with an ending in its query (room.js), and the lobby shows that ending's notice
// (lobby.js): one table for both, so neither can name an ending the other does not know.
import { t } from "./i18n.js";

/** Each ending: the lobby's query, and its notice's tone (its words: ending.<name>.title and
 * .detail in the language tables, i18n.js). */
export const ENDINGS = {
  notFound: ["error=room-not-found", "danger"],
  full: ["error=room-full", "danger"],
  badLink: ["error=bad-link", "danger"],
  destroyed: ["destroyed=1", "info"],
  destroyedByYou: ["destroyed=you", "info"],
  expired: ["expired=1", "warn"],
  left: ["left=1", "info"],
};

const EXPIRED_WITHIN_MS = 5000; // a room that vanishes this close to its end ran out of time

/** The lobby's address for an ending. */
export function lobbyUrl(ending) {
  return `/?${ENDINGS[ending][0]}`;
}

/** The ending a lobby's query names, with its notice; null for none. */
export function endingOf(search) {
  const params = new URLSearchParams(search);
  for (const [ending, [query, tone]] of Object.entries(ENDINGS)) {
    const [key, value] = query.split("=");
    if (params.get(key) === value) return { ending, tone, title: t(`ending.${ending}.title`), detail: t(`ending.${ending}.detail`) };
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
