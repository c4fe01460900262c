// The room page's full-page states, shown instead of the room: a link with no key, a damaged
// key or the wrong one (each with a form to paste the whole link again), the card that asks
// before joining, a browser that cannot run a room, a room that could not be opened, and a
// link whose room is gone or full (a closed door: said before any Join, or after one). A room
// this page sat in that ends under it has no screen here: the page leaves for the lobby,
// which says why (leave() in room.js).
import { unsupportedText } from "./capabilities.js";
import { t } from "./i18n.js";
import { getName, setName } from "./identity.js";
import { parseRoomLink } from "./links.js";

const $ = (id) => document.getElementById(id);

const KEY_PROBLEMS = ["missing", "invalid", "wrong"]; // screen.<kind>.title and .text

/** A link that opens no room for this person: gone (never existed, expired or destroyed: the
 * server keeps nothing to tell these apart) or full. */
const CLOSED_DOORS = { gone: "timer", full: "people" }; // screen.<kind>.title and .text, and the icon

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
  if (!KEY_PROBLEMS.includes(kind)) return;
  document.body.dataset.keyProblem = kind;
  showScreen({ title: t(`screen.${kind}.title`), text: t(`screen.${kind}.text`), icon: "key", tone: "danger", form: "key-form" });
}

/** The key problem's form: a link pasted there opens its room (this one: the new hash reloads it). */
export function setUpKeyForm(roomId) {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const link = parseRoomLink($("key-input").value);
    const error = $("key-error");
    if (!link?.key) {
      error.textContent = t("screen.noKey");
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
    title: t("screen.ask.title"),
    text: t("screen.ask.text"),
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
  document.body.dataset.door = kind;
  showScreen({ title: t(`screen.${kind}.title`), text: t(`screen.${kind}.text`), icon: CLOSED_DOORS[kind], tone: "danger" });
  $("screen-home").focus();
}

/** This browser cannot run a room (capabilities.js): said before anything is joined. */
export function showUnsupported(missing) {
  document.body.dataset.unsupported = missing.join(" ");
  showScreen({ title: t("screen.unsupported.title"), text: unsupportedText(missing), icon: "alert", tone: "danger" });
}

/** Joining failed in a way a reload may cure. */
export function showOpenFailure(error) {
  showScreen({ title: t("screen.openFailed.title"), text: t("screen.openFailed.text", { reason: error.message }), icon: "alert", tone: "danger" });
}

/** The room itself, in place of any screen. */
export function showRoom() {
  $("screen").hidden = true;
  $("app").hidden = false;
}
