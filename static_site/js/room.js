// The room page: opens the room (room-open.js: the link, the browser, the Join card, the
// join), then builds the page once, in the order each part needs the others (startRoom),
// from the modules that each hold one concern (see the README's layout), and connects them
// to the API and the WebSocket. Where the page goes when the room ends, and why, is endings.js.
import { api, loadConfig } from "./api.js";
import { CatchUpRetry } from "./catch-up.js";
import { setUpComposer } from "./composer.js";
import { Conversation } from "./conversation.js";
import { Countdown, showExpiryWarning, showTimeLeft } from "./countdown.js";
import { draftKey, keepUnsent, tabStorage } from "./drafts.js";
import { vanished } from "./endings.js";
import { Handshake } from "./handshake.js";
import { hideKeyChange, showHelloProblem, showKeyChange, showSession, usable } from "./handshake-view.js";
import { setUpSwitcher, t, translatePage } from "./i18n.js";
import { getName } from "./identity.js";
import { setUpInvite } from "./invite.js";
import { Announcer } from "./live.js";
import { MessageView } from "./message-view.js";
import { Notifier, UnreadTitle } from "./notify.js";
import { helloKey } from "./protocol.js";
import { Presence, Typing, showPresence } from "./presence.js";
import { RoomSocket } from "./realtime.js";
import { Resender } from "./resend.js";
import { RoomKeys } from "./room-keys.js";
import { setUpLeaveAndDestroy } from "./room-controls.js";
import { goToLobby, openRoom, roomOfPage, takeSeat } from "./room-open.js";
import { setUpKeyForm, showKeyProblem, showRoom } from "./screens.js";
import { Chime } from "./sound.js";
import { setUpKeeping } from "./keeping.js";
import { spokenView } from "./spoken-view.js";
import { readReceipts } from "./read-receipts.js";
import { toast } from "./toast.js";

const HELLO_RETRY_MS = 3000;
const $ = (id) => document.getElementById(id);

/** Builds the room for a browser that sits in it (`opened`: what openRoom found). */
async function startRoom({ roomId, keyText, store, linkKey, proof, joined }) {
  const { wsUrl } = await loadConfig();
  const storage = tabStorage();
  const DRAFT_KEY = draftKey(location.pathname);
  const announcer = new Announcer($("live-polite"), $("live-assertive"));
  const unread = new UnreadTitle();
  const state = { leaving: false, destroying: false, full: false, settled: false, otherName: "" };
  let helloTimer;
  // ---------- leaving: off to the lobby, which says why ----------
  const leave = (ending) => {
    if (state.leaving) return;
    state.leaving = true;
    if (ending === "expired" || ending === "destroyed") announcer.say(t("live.ended"), { urgent: true });
    // The room expired under what was being written: the lobby shows it, once.
    if (ending === "expired") keepUnsent(storage, [...conversation.unsent(), $("text").value]);
    socket.stop();
    resender.stop();
    goToLobby(ending, store, roomId); // the draft and its keys go first, then the page
  };
  const roomGone = () => leave(vanished({ msLeft: countdown.msLeft(), destroying: state.destroying }));
  /** Every refusal of the API, whatever asked: 404 the room is gone, 401 our seat's cookie was refused. */
  const refused = (error) => {
    if (error?.status === 404) roomGone();
    else if (error?.status === 401) rejoin();
  };
  /** Join again through the one join path (the same seat while the cookie lasts), then resend. */
  const rejoin = async () => {
    const again = await takeSeat(roomId, proof, {
      rejoining: true,
      onRefused: (next) => {
        if (next === "wrong-key") {
          socket.stop();
          showKeyProblem("wrong");
        } else if (next === "vanished") roomGone();
        else leave(next);
      },
    });
    if (!again) return;
    takeHellos(again.hellos);
    conversation.retryFailed();
  };
  // ---------- time left, the view, who is here ----------
  const countdown = new Countdown({
    render: showTimeLeft,
    warn: () => {
      showExpiryWarning();
      announcer.say(t("time.warning"));
      notifier.notify(t("notify.closesSoon"), t("notify.closesSoonBody"));
    },
    end: () => leave("expired"),
  });
  countdown.set(joined.ttl);
  const view = new MessageView($("messages"), $("empty"), $("newer"), {
    onRetry: (node) => conversation.retry(node),
    onShown: (node) => conversation.shown(node), // on screen in a visible tab: a read receipt
  });
  // The other's name inside a sentence ("… joined") is isolated (U+2068 … U+2069), so a name
  // in Arabic or Hebrew does not reorder the words around it.
  const otherPerson = () => (state.otherName ? `\u2068${state.otherName}\u2069` : t("presence.otherPerson"));
  const typing = new Typing($("typing"), otherPerson);
  const chime = new Chime({ button: $("sound"), label: $("sound-text") });
  const notifier = new Notifier({ button: $("notify"), label: $("notify-text"), tag: `privochat-${roomId}`, toast });
  const inviteDialog = $("invite-dialog");
  /** Both seats are taken: the invite gives way to a greeting; focus that was on what goes
   * away (the invite card, its dialog, the Invite button) moves to the composer. */
  const markFull = () => {
    if (state.full) return;
    state.full = true;
    const focusWasHere = [$("invite"), $("invite-card"), inviteDialog].some((node) => node.contains(document.activeElement));
    $("invite").hidden = true;
    $("invite-card").hidden = true;
    $("hello-card").hidden = false;
    if (inviteDialog.open) inviteDialog.close();
    if (focusWasHere && !$("app").hidden) $("text").focus();
  };
  const presence = new Presence({
    show: showPresence,
    announce: (line, kind) => {
      view.addEvent(line, kind);
      announcer.say(line);
      if (kind === "left") return;
      conversation.announce(); // they are back: they hear who we are and what we had,
      conversation.otherArrived(); // and what they lack is watched again
      notifier.notify(line, t("notify.inRoom"));
      unread.count();
    },
    full: markFull,
    isOpen: () => socket.isOpen,
    who: otherPerson,
    online: navigator.onLine,
  });
  // ---------- keys, the handshake ----------
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("privochat-keys") : null;
  const keys = new RoomKeys(store, { roomId, seat: joined.seat, expiresAt: countdown.deadline }, { channel });
  await keys.save();
  /** The session to send with changed; having one means both people are here. New keys after
   * earlier ones wait for the person to accept them (nothing is sealed with them until then). */
  const onSession = (session) => {
    showSession(session);
    if (!session) return;
    markFull();
    if (usable(session)) {
      hideKeyChange();
      conversation.pump();
      conversation.announce(); // our name and what we had, sealed, as soon as keys are agreed
    } else {
      showKeyChange(session, (answer) => {
        if (answer === "accept") handshake.mark({ accepted: true });
        else $("confirm-destroy").showModal();
      });
    }
  };
  const handshake = new Handshake({
    roomId,
    seat: joined.seat,
    helloKey: await helloKey(linkKey, roomId),
    keys,
    publish: async (hello) => (await api.hello(roomId, hello)).hello,
    onChange: onSession,
    onProblem: showHelloProblem,
  });
  /** Hands hellos to the handshake; a publish that fails is tried again a little later. */
  const takeHellos = (hellos) => handshake.update(hellos).catch((error) => {
    refused(error);
    clearTimeout(helloTimer);
    if (!state.leaving) helloTimer = setTimeout(() => takeHellos([]), HELLO_RETRY_MS);
  });
  // ---------- the conversation ----------
  // A history fetch that fails is tried again after a growing pause (catch-up.js), and said so.
  const catchUp = new CatchUpRetry({
    fetch: (after) => api.messages(roomId, after),
    retry: () => conversation.catchUp(),
    waiting: (notice) => {
      toast(notice);
      $("app").dataset.retrying = "";
    },
    recovered: () => delete $("app").dataset.retrying,
    stopped: () => state.leaving,
  });
  const resender = new Resender({ retry: () => conversation.retryFailed() });
  const conversation = new Conversation({
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
    view: spokenView({
      view, announcer, resender, otherPerson, settled: () => state.settled, keysToAccept: () => Boolean(handshake.current),
    }),
    onIncoming: ({ name }) => {
      state.otherName = name;
      typing.hide();
      unread.count();
      chime.play();
      notifier.notify(t("notify.newMessage", { name }), t("notify.newMessageBody"));
    },
    onError: refused,
    sendReceipt: (wire) => socket.send({ action: "receipt", text: wire }),
    readReceipts: () => readReceipts.on,
    otherPresent: () => presence.otherHere === true,
    onName: (name) => {
      // The name comes sealed once keys are agreed: lines that said "The other person" say it.
      if (!state.otherName) view.renameEvents(t("presence.otherPerson"), `\u2068${name}\u2069`);
      state.otherName = name;
    },
  });
  keys.onElsewhere(() => takeHellos([])); // another tab derived a session, or let its key go
  // ---------- the WebSocket (started once the history is drawn) ----------
  const socket = new RoomSocket(`${wsUrl}?roomId=${encodeURIComponent(roomId)}`, {
    onOpen: () => {
      conversation.catchUp();
      conversation.announce(); // who we are and what we had: the other may have missed it
    },
    onEvent: (event) => {
      switch (event.type) {
        case "message": conversation.push(event.message); break;
        case "hello": takeHellos([event.hello]); break;
        case "pong":
        case "presence": if (Number.isInteger(event.online)) presence.count(event.online, event.type === "presence"); break;
        case "typing": typing.show(); break;
        case "receipt": conversation.takeReceipt(event); break;
        case "destroy": leave(state.destroying ? "destroyedByYou" : "destroyed"); break;
        default: break;
      }
    },
    onState: (socketState) => presence.socketState(socketState),
    // A refused upgrade looks like any drop: the API says whether the room and our seat
    // still exist, and its refusal is handled as every other (a 401 rejoins, then reconnects).
    beforeRetry: async () => {
      try {
        await api.ttl(roomId);
      } catch (error) {
        refused(error);
      }
      return !state.leaving;
    },
  });
  // ---------- the page's controls ----------
  const setOnline = (isOnline) => {
    presence.setOnline(isOnline);
    const stick = view.nearBottom(); // the banner takes its line above the log; the reader stays
    $("offline").hidden = isOnline;
    if (stick) view.scrollToEnd();
    if (!isOnline) return;
    // Back: what failed while offline goes out now, and anything pushed meanwhile is fetched.
    conversation.retryFailed();
    conversation.catchUp();
  };
  addEventListener("online", () => setOnline(true));
  addEventListener("offline", () => setOnline(false));
  $("offline").hidden = presence.online;
  $("my-name").textContent = getName();
  setUpComposer({
    storage,
    draftKey: DRAFT_KEY,
    write: (text) => conversation.write(text),
    sendTyping: () => socket.send({ action: "typing" }),
    coarsePointer: matchMedia("(pointer: coarse)").matches,
  });
  const invite = setUpInvite({
    link: `${location.origin}/room/${encodeURIComponent(roomId)}#${keyText}`,
    dialog: inviteDialog,
    qr: $("qr"),
    toast,
  });
  $("invite").addEventListener("click", invite.open);
  $("compared").addEventListener("click", () => handshake.mark({ verified: true }));
  setUpKeeping({ lines: () => conversation.transcript, me: getName, other: () => state.otherName });
  setUpLeaveAndDestroy({
    roomId,
    leave,
    destroying: (flag) => { state.destroying = flag; },
    notDestroyed: () => { if (handshake.current) onSession(handshake.current); }, // a key change asks again
  });
  // ---------- go ----------
  if (joined.seat === 2 || joined.participants >= 2) markFull();
  else $("invite").hidden = $("invite-card").hidden = false;
  countdown.start(async () => (await api.ttl(roomId)).ttl, refused);
  await takeHellos(joined.hellos);
  await conversation.catchUp();
  await conversation.idle();
  if (state.leaving || document.body.dataset.keyProblem) return;
  state.settled = true;
  showRoom();
  if ($("empty").hidden) view.scrollToEnd(); // else the room's first card shows from its top
  $("text").focus();
  socket.start();
}

translatePage();
setUpSwitcher($("language"));
setUpKeyForm(roomOfPage().roomId);
const opened = await openRoom();
if (opened) await startRoom(opened);
