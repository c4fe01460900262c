// The lobby: create a room (with a fresh link key), join one by its invite link, pick a name.
// Loaded with blocking="render", so a notice is in place before the first paint (no layout shift).
import { api } from "./api.js";
import { tabStorage, takeKept } from "./drafts.js";
import { endingOf } from "./endings.js";
import { setUpSwitcher, t, translatePage } from "./i18n.js";
import { getName, randomName, setName } from "./identity.js";
import { missingForRoom, unsupportedText } from "./capabilities.js";
import { openKeystore } from "./keystore.js";
import { parseRoomLink } from "./links.js";
import { joinCredentials, newLinkKey, parseLinkKey } from "./protocol.js";

/** What was written but not sent when the room expired (room.js keeps it for this tab), shown once. */
function keptTexts() {
  const texts = takeKept(tabStorage());
  if (!texts.length) return [];
  const label = document.createElement("label");
  label.className = "label kept-label";
  label.htmlFor = "kept";
  label.textContent = texts.length === 1 ? t("lobby.keptOne") : t("lobby.keptMany", { count: texts.length });
  const kept = document.createElement("textarea");
  kept.id = "kept";
  kept.className = "kept";
  kept.readOnly = true;
  kept.rows = Math.min(6, texts.join("\n\n").split("\n").length + 1);
  kept.value = texts.join("\n\n");
  return [label, kept];
}

/** Why the person is back in the lobby (endings.js), said in the notice at the top. */
function showNotice() {
  const found = endingOf(location.search);
  if (!found) return;
  const { ending, tone, title, detail } = found;
  const notice = document.getElementById("notice");
  const text = document.createElement("div");
  const strong = document.createElement("strong");
  strong.textContent = title;
  const p = document.createElement("p");
  p.textContent = detail;
  text.append(strong, p);
  if (ending === "expired") text.append(...keptTexts());
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn btn-ghost";
  close.textContent = t("lobby.dismiss");
  close.addEventListener("click", () => { notice.hidden = true; });
  notice.replaceChildren(text, close);
  notice.dataset.tone = tone;
  notice.dataset.notice = ending;
  notice.hidden = false;
  history.replaceState(null, "", "/");
}

function showError(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

function setUpCreate() {
  const button = document.getElementById("create");
  const error = document.getElementById("create-error");
  const label = button.querySelector("[data-i18n]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    label.textContent = t("lobby.creating");
    showError(error, "");
    try {
      const key = newLinkKey();
      const { verifier } = await joinCredentials(parseLinkKey(key));
      const { roomId, ttl } = await api.createRoom(verifier);
      // This browser made the room: its page joins by itself (seat 0 until the join says which).
      const store = await openKeystore();
      await store.update(roomId, () => ({
        record: { roomId, seat: 0, expiresAt: Date.now() + ttl * 1000, pairs: {}, sessions: {} },
      }));
      location.assign(`/room/${encodeURIComponent(roomId)}#${key}`);
    } catch (e) {
      showError(error, e.status === 429
        ? t("lobby.tooMany")
        : t("lobby.createFailed", { reason: e.message }));
      button.disabled = false;
      label.textContent = t("lobby.create");
    }
  });
}

function setUpJoin() {
  const form = document.getElementById("join-form");
  const input = document.getElementById("join-input");
  const error = document.getElementById("join-error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const link = parseRoomLink(input.value);
    if (!link || !link.key) {
      let message = t("lobby.pasteLink");
      if (link) message = t("lobby.partOfLink");
      else if (input.value.trim()) message = t("lobby.notALink");
      showError(error, message);
      input.focus();
      return;
    }
    location.assign(`/room/${encodeURIComponent(link.roomId)}#${link.key}`);
  });
  input.addEventListener("input", () => showError(error, ""));
}

function setUpName() {
  const input = document.getElementById("name-input");
  input.value = getName();
  input.addEventListener("input", () => { if (input.value.trim()) setName(input.value); });
  input.addEventListener("change", () => { input.value = setName(input.value); });
  document.getElementById("reroll").addEventListener("click", () => { input.value = setName(randomName()); });
}

/** A browser that cannot run a room is told so before it creates one (capabilities.js). */
async function checkBrowser() {
  const missing = await missingForRoom();
  if (!missing.length) return;
  document.getElementById("create").disabled = true;
  document.body.dataset.unsupported = missing.join(" ");
  showError(document.getElementById("create-error"), unsupportedText(missing));
}

translatePage();
setUpSwitcher(document.getElementById("language"));
openKeystore().then((store) => store.purge()).catch(() => {});
checkBrowser();
showNotice();
setUpCreate();
setUpJoin();
setUpName();
