// The room's time left: the header's chip ("9 min left", urgent under five minutes), the
// sentences that say when the room deletes itself (.life), the warning a minute before the
// end, and the end. The deadline is set once, from the join answer's ttl counted on this
// page's own clock (so a skewed clock does not matter), and never asked for again: a room's
// end is fixed when it is created, and a sleeping laptop reads Date.now() afresh on waking.
// (A resync every minute cost 3 Upstash commands per participant and minute: issue 24.)
import { t } from "./i18n.js";
import { clockLeft, shortLeft, wordsLeft } from "./time-left.js";

const WARN_BEFORE_S = 60;
const URGENT_BELOW_S = 300;

export class Countdown {
  /** render(seconds): shows the time left; warn(): once, in the last minute; end(): each tick at zero. */
  constructor({ render, warn, end, now = Date.now }) {
    Object.assign(this, { render, warn, end, now });
    this.deadline = 0;
    this.warned = false;
  }

  /** The server says the room has `ttl` seconds left. */
  set(ttl) {
    this.deadline = this.now() + ttl * 1000;
  }

  msLeft() {
    return this.deadline - this.now();
  }

  tick() {
    const left = Math.max(0, Math.ceil(this.msLeft() / 1000));
    this.render(left);
    if (left <= WARN_BEFORE_S && left > 0 && !this.warned) {
      this.warned = true;
      this.warn();
    }
    if (left === 0) this.end();
  }

  /** Asks fetchTtl() for the seconds left; a failure goes to onError. */
  async resync(fetchTtl, onError) {
    try {
      this.set(await fetchTtl());
      this.tick();
    } catch (error) {
      onError(error);
    }
  }

  /** Ticks every second. (fetchTtl and onError are kept for callers; nothing polls any more.) */
  start(_fetchTtl, _onError) {
    this.tick();
    setInterval(() => this.tick(), 1000);
  }
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** The header's chip and every .life sentence, for `left` seconds. */
export function showTimeLeft(left) {
  const chip = document.getElementById("ttl");
  setText(document.getElementById("ttl-text"), shortLeft(left));
  chip.toggleAttribute("data-urgent", left < URGENT_BELOW_S);
  chip.title = t("time.chipTitle", { clock: clockLeft(left) });
  const life = t("time.life", { left: wordsLeft(left) });
  for (const node of document.querySelectorAll(".life")) setText(node, life);
}

export function showExpiryWarning() {
  const warning = document.getElementById("expiry-warning");
  document.getElementById("expiry-text").textContent = t("time.warning");
  warning.hidden = false;
}
