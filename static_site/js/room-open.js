// Opening the room page, before there is a room to build: the link's room ID and key, what
// the browser can do, its keystore, a room that is gone (said before any Join), the Join card
// for a browser with no record of the room, and the join itself. The one join path of the page
// (takeSeat) is here: the first join, and a rejoin when a cookie is refused, go through it.
import { api } from "./api.js";
import { missingForRoom } from "./capabilities.js";
import { draftKey, saveDraft, tabStorage } from "./drafts.js";
import { afterRefusedJoin, lobbyUrl } from "./endings.js";
import { openKeystore } from "./keystore.js";
import { isRoomId } from "./links.js";
import { joinCredentials, parseLinkKey } from "./protocol.js";
import { askToJoin, showClosedDoor, showKeyProblem, showOpenFailure, showUnsupported } from "./screens.js";

const $ = (id) => document.getElementById(id);

/** The room this page is for: its ID from the path, the key text after "#". */
export function roomOfPage() {
  return {
    roomId: location.pathname.replace(/^\/room\//, "").replace(/\/$/, ""),
    keyText: location.hash.slice(1),
  };
}

/** Before any Join: "gone", "full" or null (POST /api/room/status with the link's proof, read
 * only, no seat taken). A failed question is no answer: the join then says what it finds. */
async function closedDoor(roomId, proof) {
  try {
    const { exists, full } = await api.door(roomId, proof);
    return exists === false ? "gone" : full ? "full" : null;
  } catch {
    return null;
  }
}

/**
 * Takes (or takes back) this browser's seat with the link's proof. A refusal goes where
 * endings.js says, through `onRefused(next)`: "wrong-key", an ending, or "vanished" (a seat
 * held before is gone); the room page and the opening both pass theirs. Null when refused.
 */
export async function takeSeat(roomId, proof, { rejoining, onRefused }) {
  try {
    return await api.joinRoom(roomId, proof);
  } catch (error) {
    const next = afterRefusedJoin(error.status, { rejoining });
    if (next) onRefused(next);
    else if (!rejoining) showOpenFailure(error);
    return null;
  }
}

/** Off to the lobby with an ending: the draft cleared, this room's keys forgotten first (if a
 * keystore is open). */
export function goToLobby(ending, store = null, roomId = "") {
  saveDraft(tabStorage(), draftKey(location.pathname), "");
  Promise.resolve(store?.remove(roomId)).catch(() => {}).finally(() => location.replace(lobbyUrl(ending)));
}

/**
 * Everything before the room: null when the page stops at a screen (a key problem, a closed
 * door, an unsupported browser) or leaves; else {roomId, keyText, store, linkKey, proof, joined}.
 */
export async function openRoom() {
  const { roomId, keyText } = roomOfPage();
  if (!isRoomId(roomId)) return goToLobby("badLink");
  const missing = await missingForRoom();
  if (missing.length) return showUnsupported(missing);
  // Keys this browser cannot store stay in the page: said once, never an uncaught rejection.
  const store = await openKeystore({ onFallback: () => { $("keys-note").hidden = false; } });
  await store.purge().catch(() => {});
  if (!keyText) return showKeyProblem("missing");
  const linkKey = parseLinkKey(keyText);
  if (!linkKey) return showKeyProblem("invalid");
  const { proof } = await joinCredentials(linkKey);
  // A browser that holds a record of this room (it created it, or joined before) rejoins by
  // itself; another is asked first, and a room that is gone is said before the card.
  const asked = !(await store.get(roomId).catch(() => null));
  if (asked) {
    const door = await closedDoor(roomId, proof);
    if (door) return showClosedDoor(door);
    await askToJoin();
  }
  const joined = await takeSeat(roomId, proof, {
    rejoining: false,
    onRefused: (next) => {
      if (next === "wrong-key") showKeyProblem("wrong");
      // Asked at the door: gone or full is said there, in place; a record's room ends in the lobby.
      else if (asked && (next === "notFound" || next === "full")) showClosedDoor(next === "full" ? "full" : "gone");
      else goToLobby(next, store, roomId);
    },
  });
  return joined && { roomId, keyText, store, linkKey, proof, joined };
}
