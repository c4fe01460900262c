// The composer: the text box, its counter and limit note, Enter to send, the draft kept
// across a reload (drafts.js) and the typing signal. What it decides (the counter's words,
// whether a key sends, when a typing signal goes) is in plain functions and a class with
// a clock, unit-tested; setUpComposer wires them to the page.
import { loadDraft, saveDraft } from "./drafts.js";
import { t } from "./i18n.js";
import { TEXT_LIMIT } from "./protocol.js";

const COUNTER_FROM = 800; // the counter shows from here on
const TYPING_EVERY_MS = 4000; // at most one typing signal this often (the server relays one per 3 s)

/**
 * What the counter and the note under the box say for a text of `length` characters. The
 * note has words even while hidden: it describes the box (aria-describedby) all the time.
 */
export function limitState(length) {
  const over = length > TEXT_LIMIT;
  const shown = length >= COUNTER_FROM;
  return {
    over,
    shown,
    counter: !shown ? "" : over ? t("composer.over", { count: length - TEXT_LIMIT }) : t("composer.left", { count: TEXT_LIMIT - length }),
    note: over
      ? t("composer.overNote", { count: length - TEXT_LIMIT, limit: TEXT_LIMIT })
      : t("composer.limitNote", { limit: TEXT_LIMIT }),
  };
}

/** Whether a text may be sent as it is: not blank, not over the limit. */
export function sendable(text) {
  return Boolean(text.trim()) && text.length <= TEXT_LIMIT;
}

/**
 * Whether this key press sends: Enter without Shift, outside an IME composition, where Enter
 * sends at all (on touch keyboards Enter makes a new line and the button sends, as in other
 * messengers).
 */
export function enterSends(event, enterSendsHere) {
  return enterSendsHere && event.key === "Enter" && !event.shiftKey && !event.isComposing;
}

/** When "typing" is worth telling: on input with text, at most once per interval; a send starts it over. */
export class TypingSignal {
  constructor(send, now = Date.now) {
    Object.assign(this, { send, now });
    this.last = -Infinity;
  }

  /** The text box changed to `text`; `send()` says whether the signal went out (false: socket closed). */
  input(text) {
    if (!text || this.now() - this.last <= TYPING_EVERY_MS) return;
    if (this.send()) this.last = this.now();
  }

  sent() {
    this.last = -Infinity;
  }
}

/**
 * Wires the composer of the room page. `write(text)` hands a message to the conversation;
 * `sendTyping()` sends the typing signal and says whether it went.
 */
export function setUpComposer({ storage, draftKey, write, sendTyping, coarsePointer }) {
  const $ = (id) => document.getElementById(id);
  const input = $("text");
  const form = $("composer");
  const typing = new TypingSignal(sendTyping);
  const refresh = () => {
    const { over, shown, counter, note } = limitState(input.value.length);
    $("counter").textContent = counter;
    $("counter").toggleAttribute("data-over", over);
    const limitNote = $("limit-note");
    limitNote.hidden = !shown;
    limitNote.toggleAttribute("data-over", over);
    limitNote.textContent = note;
    $("send").disabled = !sendable(input.value);
    input.dir = input.value ? "auto" : ""; // its text's own direction; empty, the page's (the placeholder)
    input.style.height = "auto"; // grows with its text
    input.style.height = `${input.scrollHeight}px`;
  };
  input.addEventListener("input", () => {
    refresh();
    saveDraft(storage, draftKey, input.value);
    typing.input(input.value);
  });
  const enterSendsHere = !coarsePointer;
  $("enter-hint").hidden = !enterSendsHere;
  input.addEventListener("keydown", (event) => {
    if (!enterSends(event, enterSendsHere)) return;
    event.preventDefault();
    form.requestSubmit();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!sendable(text)) return;
    input.value = "";
    saveDraft(storage, draftKey, "");
    typing.sent();
    refresh();
    input.focus();
    write(text);
  });
  input.value = loadDraft(storage, draftKey);
  refresh();
}
