// The room page's full-page states, shown instead of the room: a link with no key, a damaged
// key or the wrong one (each with a form to paste the whole link again), the card that asks
// before joining, a browser that cannot run a room, a room that could not be opened, and a
// link whose room is gone or full (a closed door: said before any Join, or after one). A room
// this page sat in that ends under it has no screen here: the page leaves for the lobby,
// which says why (leave() in room.js).
import { unsupportedText } from "./capabilities.js";
import { getName, setName } from "./identity.js";
import { parseRoomLink } from "./links.js";

const $ = (id) => document.getElementById(id);

const KEY_PROBLEMS = {
  missing: ["This link is missing its key",
    "Rooms in PrivoChat open only with the key that is part of the invite link, after the “#”. Paste the complete link you were sent."],
  invalid: ["This link's key is damaged",
    "The part of the link after the “#” is not a valid key, so this room can't be opened with it. Paste the complete link you were sent."],
  wrong: ["Wrong key for this room",
    "The key in your link is not this room's key, so you can't join it. Ask for the invite link again and paste it whole."],
};

/** A link that opens no room for this person: gone (never existed, expired or destroyed: the
 * server keeps nothing to tell these apart) or full. */
const CLOSED_DOORS = {
  gone: ["This room doesn't exist",
    "It expired or was destroyed, or the link never opened a room. Once a room ends, PrivoChat keeps nothing of it, so it can't tell which.",
    "timer"],
  full: ["This room is full",
    "A PrivoChat room holds exactly two people, and both seats are taken. Ask the person who invited you to create a new room for the two of you.",
    "people"],
};

function showScreen({ title, text, icon = "lock", tone = "", form = null }) {
  $("app").hidden = true;
  const screen = $("screen");
  screen.hidden = false;
  screen.dataset.tone = tone;
  $("screen-icon").firstElementChild.setAttribute("href", `/icons.svg#${icon}`);
  $("screen-title").textContent = title;
  $("screen-text").textContent = text;
  $("key-form").hidden = form !== "key-form";
  $("join-room").hidden = form !== "join-room";
  $("screen-home").hidden = false;
  if (form) $(form).querySelector("input").focus();
}

/** kind: "missing", "invalid" or "wrong"; body[data-key-problem] says which. */
export function showKeyProblem(kind) {
  const [title, text] = KEY_PROBLEMS[kind];
  document.body.dataset.keyProblem = kind;
  showScreen({ title, text, icon: "key", tone: "danger", form: "key-form" });
}

/** The key problem's form: a link pasted there opens its room (this one: the new hash reloads it). */
export function setUpKeyForm(roomId) {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const link = parseRoomLink($("key-input").value);
    const error = $("key-error");
    if (!link?.key) {
      error.textContent = "That link has no key after the “#”. Copy the whole link and try again.";
      error.hidden = false;
      return;
    }
    if (link.roomId === roomId) location.hash = link.key;
    else location.replace(`/room/${encodeURIComponent(link.roomId)}#${link.key}`);
  });
  addEventListener("hashchange", () => location.reload());
}

/** Someone opening a link this browser has no record of: nothing is joined until they click. */
export function askToJoin() {
  showScreen({
    title: "Join this private room",
    text: "You were invited to an end-to-end encrypted room for two. Joining takes the second seat; the room deletes itself when its time runs out.",
    icon: "people",
    form: "join-room",
  });
  $("join-name").value = getName();
  return new Promise((resolve) => {
    $("join-room").addEventListener("submit", (event) => {
      event.preventDefault();
      setName($("join-name").value);
      $("join-button").disabled = true;
      resolve();
    }, { once: true });
  });
}

/** kind: "gone" or "full"; body[data-door] says which. Nothing was joined; the way back is the lobby. */
export function showClosedDoor(kind) {
  const [title, text, icon] = CLOSED_DOORS[kind];
  document.body.dataset.door = kind;
  showScreen({ title, text, icon, tone: "danger" });
  $("screen-home").focus();
}

/** This browser cannot run a room (capabilities.js): said before anything is joined. */
export function showUnsupported(missing) {
  document.body.dataset.unsupported = missing.join(" ");
  showScreen({ title: "This browser can't open PrivoChat rooms", text: unsupportedText(missing), icon: "alert", tone: "danger" });
}

/** Joining failed in a way a reload may cure. */
export function showOpenFailure(error) {
  showScreen({ title: "Couldn't open the room", text: `${error.message} Reload the page to try again.`, icon: "alert", tone: "danger" });
}

/** The room itself, in place of any screen. */
export function showRoom() {
  $("screen").hidden = true;
  $("app").hidden = false;
}
