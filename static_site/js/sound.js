// An optional soft sound for a new message while the tab is in the background: off until the
// person turns it on (the toggle in the room's footer), remembered in this browser. The tone is
// made with WebAudio (no file). The audio context is made only inside a click or key press,
// as browsers' autoplay rules ask, so that nothing is refused and nothing is logged.
import { t } from "./i18n.js";

const PREFERENCE = "privochat.sound";

function remembered(storage) {
  try {
    return storage.getItem(PREFERENCE) === "on";
  } catch {
    return false;
  }
}

export class Chime {
  /** button: a toggle (aria-pressed); label: its text. */
  constructor({ button, label, storage = globalThis.localStorage, doc = document, Context = globalThis.AudioContext }) {
    Object.assign(this, { button, label, storage, doc, Context });
    this.context = null;
    this.enabled = Boolean(Context) && remembered(storage);
    if (!Context) return; // no WebAudio: no toggle
    button.hidden = false;
    button.addEventListener("click", () => this.set(!this.enabled));
    // Turned on in an earlier visit: the first gesture on this page readies the audio.
    const ready = () => { if (this.enabled) this.ready(); };
    doc.addEventListener("pointerdown", ready, { once: true, capture: true });
    doc.addEventListener("keydown", ready, { once: true, capture: true });
    this.render();
  }

  /** Within a user gesture: the context, made or resumed. */
  ready() {
    this.context ??= new this.Context();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  set(enabled) {
    this.enabled = enabled;
    if (enabled) this.ready();
    try {
      this.storage.setItem(PREFERENCE, enabled ? "on" : "off");
    } catch {
      // not remembered: it still applies to this page
    }
    this.render();
  }

  render() {
    this.button.setAttribute("aria-pressed", String(this.enabled));
    this.label.textContent = t(this.enabled ? "sound.on" : "sound.off");
    this.button.title = t("sound.title");
  }

  /** A new message: a soft two-note tone, if on, ready and the tab is not in sight. True if played. */
  play() {
    if (!this.enabled || this.doc.visibilityState === "visible" || this.context?.state !== "running") return false;
    const now = this.context.currentTime;
    const gain = this.context.createGain();
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.08, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
    gain.connect(this.context.destination);
    for (const [frequency, start] of [[660, 0], [880, 0.12]]) {
      const tone = this.context.createOscillator();
      tone.type = "sine";
      tone.frequency.value = frequency;
      tone.connect(gain);
      tone.start(now + start);
      tone.stop(now + start + 0.22);
    }
    return true;
  }
}
