// The room page's composition: joins with the link's proof, then makes the modules that each
// hold one concern (the handshake, the conversation, presence, the countdown, the composer,
// the views; see the README's layout) and connects them to each other, the API and the
// WebSocket. Where the page goes when the room ends, and why, is endings.js.
import { api, loadConfig } from "./api.js";
import { CatchUpRetry } from "./catch-up.js";
import { setUpComposer } from "./composer.js";
import { Conversation } from "./conversation.js";
import { Countdown, showExpiryWarning, showTimeLeft } from "./countdown.js";
import { draftKey, keepUnsent, saveDraft, tabStorage } from "./drafts.js";
import { afterRefusedJoin, lobbyUrl, vanished } from "./endings.js";
import { missingForRoom } from "./capabilities.js";
import { Handshake } from "./handshake.js";
import { hideKeyChange, showHelloProblem, showKeyChange, showSession, usable } from "./handshake-view.js";
import { setUpSwitcher, t, translatePage } from "./i18n.js";
import { getName } from "./identity.js";
import { setUpInvite } from "./invite.js";
import { Announcer } from "./live.js";
import { openKeystore } from "./keystore.js";
import { MessageView, deliveryOf } from "./message-view.js";
import { Notifier, UnreadTitle } from "./notify.js";
import { helloKey, joinCredentials, parseLinkKey } from "./protocol.js";
import { Presence, Typing, showPresence } from "./presence.js";
import { RoomSocket } from "./realtime.js";
import { Chime } from "./sound.js";
import { Resender } from "./resend.js";
import { RoomKeys } from "./room-keys.js";
import {
  askToJoin, setUpKeyForm, showClosedDoor, showKeyProblem, showOpenFailure, showRoom, showUnsupported,
} from "./screens.js";
import { toast } from "./toast.js";

const HELLO_RETRY_MS = 3000;

const $ = (id) => document.getElementById(id);
const roomId = location.pathname.replace(/^\/room\//, "").replace(/\/$/, ""); // checked in main()
const keyText = location.hash.slice(1);
const storage = tabStorage();
const DRAFT_KEY = draftKey(location.pathname);
translatePage();
setUpSwitcher($("language"));
const announcer = new Announcer($("live-polite"), $("live-assertive"));
let settled = false; // the first history is drawn: from now on a message is news, and said

let store = null;
let proof = null;
let socket = null;
let view = null;
let handshake = null;
let conversation = null;
let leaving = false;
let otherName = "";
let helloTimer = null;
let roomFull = false; // both seats are taken: no one to invite
let destroying = false; // this page asked for the destroy
let notifier = null;
let chime = null;
const unread = new UnreadTitle();
let inviteDialog = null;

// ---------- full-page states (screens.js) ----------

/** The key can't open this room: the page stops and asks for the whole link again. */
function keyProblem(kind) {
  socket?.stop();
  showKeyProblem(kind);
}

setUpKeyForm(roomId);

// ---------- leaving ----------

/** The room is over for this browser: off to the lobby, which says why (endings.js). */
function leave(ending) {
  if (leaving) return;
  leaving = true;
  if (ending === "expired" || ending === "destroyed") announcer.say(t("live.ended"), { urgent: true });
  // The room expired under what was being written: the lobby shows it, once.
  if (ending === "expired") keepUnsent(storage, [...(conversation?.unsent() ?? []), $("text").value]);
  saveDraft(storage, DRAFT_KEY, "");
  socket?.stop();
  resender.stop();
  // Its keys go first, then the page.
  Promise.resolve(store?.remove(roomId)).catch(() => {}).finally(() => location.replace(lobbyUrl(ending)));
}

/** The room vanished under us: it either ran out of time or was destroyed. */
function roomGone() {
  leave(vanished({ msLeft: countdown.msLeft(), destroying }));
}

/** Follows where a refused join leads (endings.js); false when it leads nowhere. */
function followRefusal(error, rejoining) {
  const next = afterRefusedJoin(error.status, { rejoining });
  if (next === "wrong-key") keyProblem("wrong");
  else if (next === "vanished") roomGone();
  else if (next) leave(next);
  return next !== null;
}

// ---------- the handshake ----------

/** The session to send with changed; having one means both people are here. New keys after
 * earlier ones wait for the person to accept them (nothing is sealed with them until then). */
function onSession(session) {
  showSession(session);
  if (!session) return;
  markFull();
  if (usable(session)) {
    hideKeyChange();
    conversation?.pump();
  } else {
    showKeyChange(session, (answer) => {
      if (answer === "accept") handshake.mark({ accepted: true });
      else $("confirm-destroy").showModal();
    });
  }
}

/** Hands hellos to the handshake; a publish that fails is tried again a little later. */
function takeHellos(hellos) {
  return handshake.update(hellos).catch((error) => {
    handleApiError(error);
    clearTimeout(helloTimer);
    if (!leaving) helloTimer = setTimeout(() => takeHellos([]), HELLO_RETRY_MS);
  });
}

// ---------- messages ----------

function onIncoming({ name }) {
  otherName = name;
  typing.hide();
  unread.count();
  chime?.play();
  notifier?.notify(t("notify.newMessage", { name }), t("notify.newMessageBody"));
}

function handleApiError(error) {
  if (error?.status === 404) roomGone();
  else if (error?.status === 401) rejoin();
}

// A history fetch that fails is tried again after a growing pause (catch-up.js), and said so.
const catchUp = new CatchUpRetry({
  fetch: (after) => api.messages(roomId, after),
  retry: () => conversation.catchUp(),
  waiting: (notice) => {
    toast(notice);
    $("app").dataset.retrying = "";
  },
  recovered: () => delete $("app").dataset.retrying,
  stopped: () => leaving,
});

/** Our seat's cookie was refused: join again (the same seat while the cookie lasts) and resend. */
async function rejoin() {
  try {
    const joined = await api.joinRoom(roomId, proof);
    takeHellos(joined.hellos);
    conversation.retryFailed();
  } catch (error) {
    followRefusal(error, true);
  }
}

/** A send's state as its bubble shows it: a failure that will go by itself is pending (and
 * tried again by the resender), one that will not is failed. */
function shownDelivery(patch) {
  if (patch.status === "sent") resender.sent();
  if (patch.status === "waiting" && handshake.current) return { ...patch, waitingFor: "accept" };
  if (patch.status !== "failed") return patch;
  const { status, text } = deliveryOf(patch.error, navigator.onLine);
  if (status === "pending") resender.pending();
  return { ...patch, status, error: text };
}

const resender = new Resender({ retry: () => conversation?.retryFailed() });

// ---------- presence (presence.js), time left (countdown.js) ----------

// The other's name inside a sentence ("… joined") is isolated (U+2068 … U+2069), so a name
// in Arabic or Hebrew does not reorder the words around it.
const otherPerson = () => (otherName ? `\u2068${otherName}\u2069` : t("presence.otherPerson"));
const typing = new Typing($("typing"), otherPerson);
const presence = new Presence({
  show: showPresence,
  announce: (line, kind) => {
    view.addEvent(line, kind);
    announcer.say(line);
    if (kind === "left") return;
    notifier?.notify(line, t("notify.inRoom"));
    unread.count();
  },
  full: () => markFull(),
  isOpen: () => Boolean(socket?.isOpen),
  who: otherPerson,
  online: navigator.onLine,
});

/** Both seats are taken: the invite gives way to a greeting. Focus that was on what goes
 * away (the invite card, its dialog, the Invite button) moves to the composer. */
function markFull() {
  if (roomFull) return;
  roomFull = true;
  const active = document.activeElement;
  const focusWasHere = [$("invite"), $("invite-card"), inviteDialog].some((node) => node?.contains(active));
  $("invite").hidden = true;
  $("invite-card").hidden = true;
  $("hello-card").hidden = false;
  if (inviteDialog?.open) inviteDialog.close();
  if (focusWasHere && !$("app").hidden) $("text").focus();
}

function setOnline(isOnline) {
  presence.setOnline(isOnline);
  // The banner takes its line above the log; a reader at the newest message stays there.
  const stick = view?.nearBottom();
  $("offline").hidden = isOnline;
  if (stick) view.scrollToEnd();
  if (!isOnline || !conversation) return;
  // Back: what failed while offline goes out now, and anything pushed meanwhile is fetched.
  conversation.retryFailed();
  conversation.catchUp();
}

const countdown = new Countdown({
  render: showTimeLeft,
  warn: () => {
    showExpiryWarning();
    announcer.say(t("time.warning"));
    notifier?.notify(t("notify.closesSoon"), t("notify.closesSoonBody"));
  },
  end: () => leave("expired"),
});

// ---------- realtime ----------

function onEvent(event) {
  switch (event.type) {
    case "message": conversation.push(event.message); break;
    case "hello": takeHellos([event.hello]); break;
    case "pong":
    case "presence": if (Number.isInteger(event.online)) presence.count(event.online, event.type === "presence"); break;
    case "typing": typing.show(); break;
    case "destroy": leave(destroying ? "destroyedByYou" : "destroyed"); break;
    default: break;
  }
}

async function startRealtime() {
  const { wsUrl } = await loadConfig();
  socket = new RoomSocket(`${wsUrl}?roomId=${encodeURIComponent(roomId)}`, {
    onOpen: () => conversation.catchUp(),
    onEvent,
    onState: (state) => presence.socketState(state),
    beforeRetry: async () => {
      // A refused upgrade looks like any drop: ask the API whether the room and our seat still exist.
      try {
        await api.ttl(roomId);
      } catch (error) {
        if (error.status === 404 || error.status === 401) {
          handleApiError(error);
          return error.status === 401;
        }
      }
      return !leaving;
    },
  });
  socket.start();
}

// ---------- buttons (the composer is composer.js) ----------

function setUpButtons() {
  inviteDialog = $("invite-dialog");
  const invite = setUpInvite({
    link: `${location.origin}/room/${encodeURIComponent(roomId)}#${keyText}`,
    dialog: inviteDialog,
    qr: $("qr"),
    toast,
  });
  $("invite").addEventListener("click", invite.open);
  $("compared").addEventListener("click", () => handshake.mark({ verified: true }));
  chime = new Chime({ button: $("sound"), label: $("sound-text") });
  notifier = new Notifier({ button: $("notify"), label: $("notify-text"), tag: `privochat-${roomId}`, toast });
  const dialog = $("confirm-destroy");
  $("destroy").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "destroy") {
      if (handshake?.current) onSession(handshake.current); // a key change not accepted asks again
      return;
    }
    dialog.returnValue = "";
    destroying = true;
    try {
      await api.destroyRoom(roomId);
    } catch (error) {
      if (error.status !== 404) {
        destroying = false;
        toast(t("room.destroyFailed", { reason: error.message }), "error");
        return;
      }
    }
    leave("destroyedByYou");
  });
  const leaveDialog = $("confirm-leave");
  $("leave").addEventListener("click", () => leaveDialog.showModal());
  leaveDialog.addEventListener("close", () => {
    if (leaveDialog.returnValue === "leave") leave("left");
    leaveDialog.returnValue = "";
  });
}

// ---------- start ----------

/** Before any Join: a link whose room is gone opens to a screen that says so (GET
 * /api/room/status, read-only). An answer that fails leaves the question to the join. */
async function roomIsGone() {
  try {
    return (await api.status(roomId)).exists === false;
  } catch {
    return false;
  }
}

/** Takes (or takes back) our seat with the link's proof; null when the page has moved on.
 * A room gone or full under the Join click closes its door here, as it would have before. */
async function join({ asked }) {
  try {
    return await api.joinRoom(roomId, proof);
  } catch (error) {
    const next = asked ? afterRefusedJoin(error.status) : null;
    if (next === "notFound" || next === "full") showClosedDoor(next === "full" ? "full" : "gone");
    else if (!followRefusal(error, false)) showOpenFailure(error);
    return null;
  }
}

async function main() {
  if (!/^[A-Za-z0-9_-]{6,64}$/.test(roomId)) return leave("badLink");
  const missing = await missingForRoom();
  if (missing.length) return showUnsupported(missing);
  // Keys this browser cannot store stay in the page: said once, never an uncaught rejection.
  store = await openKeystore({ onFallback: () => { $("keys-note").hidden = false; } });
  await store.purge().catch(() => {});
  if (!keyText) return keyProblem("missing");
  const L = parseLinkKey(keyText);
  if (!L) return keyProblem("invalid");
  ({ proof } = await joinCredentials(L));

  // A browser that holds a record of this room (it created it, or joined before) rejoins by itself.
  const asked = !(await store.get(roomId).catch(() => null));
  if (asked) {
    if (await roomIsGone()) return showClosedDoor("gone");
    await askToJoin();
  }
  const joined = await join({ asked });
  if (!joined) return;
  countdown.set(joined.ttl);
  if (joined.seat === 2 || joined.participants >= 2) markFull();
  else {
    $("invite").hidden = false;
    $("invite-card").hidden = false;
  }
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("privochat-keys") : null;
  const keys = new RoomKeys(store, { roomId, seat: joined.seat, expiresAt: countdown.deadline }, { channel });
  await keys.save();
  keys.onElsewhere(() => takeHellos([])); // another tab derived a session, or let its key go

  view = new MessageView($("messages"), $("empty"), $("newer"), { onRetry: (node) => conversation.retry(node) });
  handshake = new Handshake({
    roomId,
    seat: joined.seat,
    helloKey: await helloKey(L, roomId),
    keys,
    publish: async (hello) => (await api.hello(roomId, hello)).hello,
    onChange: onSession,
    onProblem: showHelloProblem,
  });
  conversation = new Conversation({
    roomId,
    seat: joined.seat,
    name: getName,
    api: { send: (body) => api.send(roomId, body), list: (after) => catchUp.list(after) },
    keys: {
      current: () => (usable(handshake.current) ? handshake.current : null),
      sessionFor: (epoch) => handshake.sessionFor(epoch),
      takeSeq: (epoch) => keys.takeSeq(epoch),
      lostEarlier: () => keys.lostEarlier(),
    },
    onHellos: takeHellos,
    view: {
      add: (entry) => {
        // The other person's new message is said once; the history drawn at a (re)load is not.
        if (settled && !entry.own && entry.text !== null) {
          announcer.say(t("live.message", { name: entry.sender || otherPerson(), text: entry.text }));
        }
        return view.add(entry);
      },
      update: (node, patch) => view.update(node, shownDelivery(patch)),
      remove: (node) => view.remove(node),
      addGap: (missing) => view.addGap(missing),
      updateGap: (node, missing) => view.updateGap(node, missing),
      removeGap: (node) => view.removeGap(node),
    },
    onIncoming,
    onError: handleApiError,
  });

  $("my-name").textContent = getName();
  addEventListener("online", () => setOnline(true));
  addEventListener("offline", () => setOnline(false));
  $("offline").hidden = presence.online;
  setUpComposer({
    storage,
    draftKey: DRAFT_KEY,
    write: (text) => conversation.write(text),
    sendTyping: () => socket?.send({ action: "typing" }),
    coarsePointer: matchMedia("(pointer: coarse)").matches,
  });
  setUpButtons();
  countdown.start(async () => (await api.ttl(roomId)).ttl, handleApiError);

  await takeHellos(joined.hellos);
  await conversation.catchUp();
  await conversation.idle();
  if (leaving || document.body.dataset.keyProblem) return;
  settled = true;
  showRoom();
  if ($("empty").hidden) view.scrollToEnd(); // else the room's first card shows from its top
  $("text").focus();
  await startRealtime();
}

main();
