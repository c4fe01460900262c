// The room: join, show and send end-to-end encrypted messages, stay live over the WebSocket.
import { api, loadConfig } from "./api.js";
import { decryptText, encryptText, importRoomKey } from "./crypto.js";
import { getName } from "./identity.js";
import { parseRoomLink } from "./links.js";
import { MessageView } from "./message-view.js";
import { RoomSocket } from "./realtime.js";

const TEXT_LIMIT = 1000;
const COUNTER_FROM = 800;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOWN_MS = 3000;
const TTL_RESYNC_MS = 60000;

const $ = (id) => document.getElementById(id);
const roomId = location.pathname.replace(/^\/room\//, "").replace(/\/$/, ""); // checked in main()
const keyText = location.hash.slice(1);
const myName = getName();

let key = null;
let socket = null;
let view = null;
let leaving = false;
let deadline = 0;
let lastServerId = null;
let otherName = "";
let decryptedCount = 0;
let lastTypingSent = 0;
let typingTimer = null;
let toastTimer = null;
let unread = 0;

// Every message goes through one queue, in order, so a message seen by two paths
// (the POST answer, a push, a catch-up) is shown exactly once.
let queue = Promise.resolve();
const enqueue = (task) => { queue = queue.then(task).catch((error) => console.error(error)); };
const seen = new Map(); // message id -> element
const sends = new Map(); // element of an unconfirmed own message -> {clientId, text, ciphertext, queued, failed}

// ---------- full-page states ----------

function showScreen({ title, text, icon = "lock", tone = "", keyForm = false }) {
  $("app").hidden = true;
  const screen = $("screen");
  screen.hidden = false;
  screen.dataset.tone = tone;
  $("screen-icon").firstElementChild.setAttribute("href", `/icons.svg#${icon}`);
  $("screen-title").textContent = title;
  $("screen-text").textContent = text;
  $("key-form").hidden = !keyForm;
  $("screen-home").hidden = false;
  if (keyForm) $("key-input").focus();
}

function showKeyProblem(kind) {
  const screens = {
    missing: ["This link is missing its key",
      "Messages in PrivoChat are encrypted with a key that is part of the invite link, after the “#”. Paste the complete link you were sent."],
    invalid: ["This link's key is damaged",
      "The part of the link after the “#” is not a valid key, so nothing here could be read. Paste the complete link you were sent."],
    wrong: ["Wrong key for this room",
      "The messages here were encrypted with a different key than the one in your link, so they can't be shown. Ask for the invite link again and paste it whole."],
  };
  const [title, text] = screens[kind];
  document.body.dataset.keyProblem = kind;
  socket?.stop();
  showScreen({ title, text, icon: "key", tone: "danger", keyForm: true });
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const link = parseRoomLink($("key-input").value);
  const error = $("key-error");
  if (!link?.key) {
    error.textContent = "That link has no key after the “#”. Copy the whole link and try again.";
    error.hidden = false;
    return;
  }
  if (link.roomId === roomId) location.hash = link.key; // reloads, see below
  else location.replace(`/room/${encodeURIComponent(link.roomId)}#${link.key}`);
});
addEventListener("hashchange", () => location.reload());

function leave(url) {
  if (leaving) return;
  leaving = true;
  socket?.stop();
  location.replace(url);
}

/** The room vanished under us: it either ran out of time or was destroyed. */
function roomGone() {
  leave(deadline - Date.now() < 5000 ? "/?expired=1" : "/?destroyed=1");
}

/** While the tab is in the background, its title counts new messages. */
function countUnread() {
  if (document.visibilityState === "visible") return;
  unread += 1;
  document.title = `(${unread}) Private room · PrivoChat`;
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  unread = 0;
  document.title = "Private room · PrivoChat";
});

function toast(message) {
  const node = $("toast");
  node.textContent = message;
  node.dataset.show = "";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => delete node.dataset.show, 2600);
}

function showAlert(message) {
  const alert = $("alert");
  alert.textContent = message;
  alert.hidden = false;
}

// ---------- messages ----------

/**
 * The element of our own unconfirmed send with this text, if any. A push (`own` when it is
 * ours, perhaps sent from another tab) can arrive before the POST's answer (or instead of it,
 * when the answer is lost): the text we encrypted ourselves tells which send it confirms.
 */
function unconfirmedSendOf(text) {
  for (const [node, send] of sends) if (send.text === text) return node;
  return null;
}

function confirm(node, message) {
  sends.delete(node);
  seen.set(message.id, node);
  view.update(node, { own: true, status: "sent", timestamp: message.timestamp });
}

/** Shows a message from the server unless it is already shown. */
async function ingest(message, own) {
  if (seen.has(message.id)) return;
  seen.set(message.id, null);
  const text = await decryptText(key, message.text);
  if (text === null) {
    if (decryptedCount === 0) {
      showKeyProblem("wrong");
    } else {
      showAlert("Some messages can't be decrypted: the other person's link has a different key. Send them your link again.");
    }
  } else {
    decryptedCount += 1;
  }
  const mine = text !== null && (own || message.sender === myName) ? unconfirmedSendOf(text) : null;
  if (mine) return confirm(mine, message);
  if (!own) {
    otherName = message.sender;
    hideTyping();
    countUnread();
  }
  seen.set(message.id, view.add({ own, sender: message.sender, text, timestamp: message.timestamp, status: "sent" }));
}

function noteServerOrder(messages) {
  if (messages.length) lastServerId = messages[messages.length - 1].id;
}

// While a catch-up is fetching, pushes wait here: shown after the catch-up's messages, in server order.
let catchUps = 0;
let pushesDuringCatchUp = [];

async function catchUp() {
  catchUps += 1;
  try {
    const { messages } = await api.messages(roomId, lastServerId);
    noteServerOrder(messages);
    for (const message of messages) enqueue(() => ingest(message, Boolean(message.own)));
    enqueue(retryFailedSends);
  } catch (error) {
    handleApiError(error);
  } finally {
    catchUps -= 1;
    if (catchUps === 0) {
      const waiting = pushesDuringCatchUp;
      pushesDuringCatchUp = [];
      waiting.forEach(onPush);
    }
  }
}

function onPush(message) {
  if (catchUps > 0) {
    pushesDuringCatchUp.push(message);
    return;
  }
  lastServerId = message.id;
  enqueue(() => ingest(message, Boolean(message.own)));
}

// Sends go out one at a time, so the server stores them in the order they were written.
let sendChain = Promise.resolve();

function deliver(node) {
  const send = sends.get(node);
  if (!send || send.queued) return;
  send.queued = true;
  send.failed = false;
  view.update(node, { status: "sending" });
  sendChain = sendChain.then(() => post(node, send));
}

async function post(node, send) {
  let outcome;
  try {
    outcome = { message: (await api.send(roomId, { sender: myName, text: send.ciphertext, clientId: send.clientId })).message };
  } catch (error) {
    outcome = { error };
  }
  await new Promise((resolve) => enqueue(() => { settle(node, send, outcome); resolve(); }));
}

function settle(node, send, { message, error }) {
  send.queued = false;
  if (!sends.has(node)) return; // a push or a catch-up confirmed it already
  if (message) {
    const shown = seen.get(message.id);
    if (shown && shown !== node) {
      sends.delete(node);
      view.remove(node);
      view.update(shown, { own: true, timestamp: message.timestamp });
    } else {
      confirm(node, message);
    }
  } else {
    send.failed = true;
    view.update(node, { status: "failed", error: failureText(error) });
    handleApiError(error);
  }
}

function failureText(error) {
  if (error.status === 413 || error.status === 422 || error.status === 400) return "Not sent: too long or invalid.";
  if (error.status === 429) return "Not sent: slow down a moment.";
  return "Not sent.";
}

function retryFailedSends() {
  for (const [node, send] of sends) if (send.failed) deliver(node);
}

async function sendMessage(text) {
  const clientId = crypto.randomUUID();
  const node = view.add({ own: true, sender: myName, text, status: "sending" });
  decryptedCount += 1;
  const send = { clientId, text, ciphertext: await encryptText(key, text), queued: false, failed: false };
  sends.set(node, send);
  deliver(node);
}

function handleApiError(error) {
  if (error.status === 404) roomGone();
  else if (error.status === 401) rejoin();
}

/** Our seat's cookie was refused: join again (the same seat while the cookie lasts) and resend. */
async function rejoin() {
  try {
    await api.joinRoom(roomId);
    enqueue(retryFailedSends);
  } catch (error) {
    if (error.status === 404) roomGone();
    else if (error.status === 409) leave("/?error=room-full");
  }
}

// ---------- presence, typing, time left ----------

function setPresence(state, text) {
  const chip = $("presence");
  chip.dataset.state = state;
  $("presence-text").textContent = text;
}

function showOnline(online) {
  if (online >= 2) setPresence("both", "Both here");
  else setPresence("alone", "1 of 2 here");
}

function showTyping() {
  $("typing").textContent = `${otherName || "The other person"} is typing…`;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
}

function hideTyping() {
  clearTimeout(typingTimer);
  $("typing").textContent = "";
}

function formatLeft(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

function tick() {
  const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  $("ttl-text").textContent = formatLeft(left);
  $("ttl").toggleAttribute("data-urgent", left < 300);
  $("ttl").title = `This room and every message in it are deleted in ${formatLeft(left)}`;
  if (left === 0) leave("/?expired=1");
}

async function resyncTtl() {
  try {
    const { ttl } = await api.ttl(roomId);
    deadline = Date.now() + ttl * 1000;
    tick();
  } catch (error) {
    handleApiError(error);
  }
}

// ---------- realtime ----------

function onEvent(event) {
  switch (event.type) {
    case "message": onPush(event.message); break;
    case "pong":
    case "presence": if (Number.isInteger(event.online)) showOnline(event.online); break;
    case "typing": showTyping(); break;
    case "destroy": leave("/?destroyed=1"); break;
    default: break;
  }
}

async function startRealtime() {
  const { wsUrl } = await loadConfig();
  socket = new RoomSocket(`${wsUrl}?roomId=${encodeURIComponent(roomId)}`, {
    onOpen: catchUp,
    onEvent,
    onState: (state) => {
      if (state === "connecting") setPresence("connecting", "Connecting…");
      if (state === "reconnecting") setPresence("offline", "Reconnecting…");
    },
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

// ---------- composer and buttons ----------

function setUpComposer() {
  const input = $("text");
  const counter = $("counter");
  const button = $("send");
  const refresh = () => {
    const length = input.value.length;
    const over = length > TEXT_LIMIT;
    counter.textContent = length >= COUNTER_FROM ? (over ? `${length - TEXT_LIMIT} over` : `${TEXT_LIMIT - length} left`) : "";
    counter.toggleAttribute("data-over", over);
    button.disabled = over || !input.value.trim();
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight}px`;
  };
  input.addEventListener("input", () => {
    refresh();
    if (input.value && Date.now() - lastTypingSent > TYPING_SEND_EVERY_MS && socket?.send({ action: "typing" })) {
      lastTypingSent = Date.now();
    }
  });
  // On touch keyboards Enter makes a new line and the button sends, as in other messengers.
  const enterSends = !matchMedia("(pointer: coarse)").matches;
  $("enter-hint").hidden = !enterSends;
  input.addEventListener("keydown", (event) => {
    if (enterSends && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() || text.length > TEXT_LIMIT) return;
    input.value = "";
    lastTypingSent = 0;
    refresh();
    input.focus();
    sendMessage(text);
  });
  refresh();
}

async function copyLink() {
  const link = `${location.origin}/room/${encodeURIComponent(roomId)}#${keyText}`;
  try {
    await navigator.clipboard.writeText(link);
  } catch {
    const scratch = Object.assign(document.createElement("textarea"), { value: link });
    document.body.append(scratch);
    scratch.select();
    document.execCommand("copy");
    scratch.remove();
  }
  toast("Invite link copied. It contains the key: share it privately.");
}

function setUpButtons() {
  $("copy-link").addEventListener("click", copyLink);
  $("copy-link-empty").addEventListener("click", copyLink);
  const dialog = $("confirm-destroy");
  $("destroy").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "destroy") return;
    dialog.returnValue = "";
    try {
      await api.destroyRoom(roomId);
    } catch (error) {
      if (error.status !== 404) {
        toast(`Couldn't destroy the room: ${error.message}`);
        return;
      }
    }
    leave("/?destroyed=1");
  });
}

// ---------- start ----------

async function main() {
  if (!/^[A-Za-z0-9_-]{6,64}$/.test(roomId)) {
    leave("/?error=bad-link");
    return;
  }
  if (!keyText) return showKeyProblem("missing");
  key = await importRoomKey(keyText);
  if (!key) return showKeyProblem("invalid");

  let joined;
  try {
    joined = await api.joinRoom(roomId);
  } catch (error) {
    if (error.status === 404) return leave("/?error=room-not-found");
    if (error.status === 409) return leave("/?error=room-full");
    if (error.status === 400) return leave("/?error=bad-link");
    return showScreen({ title: "Couldn't open the room", text: `${error.message} Reload the page to try again.`, icon: "alert", tone: "danger" });
  }
  deadline = Date.now() + joined.ttl * 1000;

  view = new MessageView($("messages"), $("empty"), $("newer"), { onRetry: deliver });
  $("my-name").textContent = myName;
  setUpComposer();
  setUpButtons();
  tick();
  setInterval(tick, 1000);
  setInterval(resyncTtl, TTL_RESYNC_MS);

  let initial;
  try {
    initial = await api.messages(roomId);
  } catch (error) {
    handleApiError(error);
    return;
  }
  noteServerOrder(initial.messages);
  for (const message of initial.messages) enqueue(() => ingest(message, Boolean(message.own)));
  await queue;
  if (document.body.dataset.keyProblem) return;

  $("screen").hidden = true;
  $("app").hidden = false;
  view.scrollToEnd();
  $("text").focus();
  await startRealtime();
}

window.__privochat = {
  get socket() { return socket?.socket ?? null; },
  dropFor: (ms) => socket?.dropFor(ms),
};

main();
