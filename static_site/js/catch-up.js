// Fetching the history again after a fetch failed. When the server can't be reached, is busy
// or unavailable, the page says so and fetches what it missed (and resends what failed)
// after a pause that doubles each time, up to 30 s, until a fetch works. A failed send says
// so on its own bubble: only history fetches come here.
import { t } from "./i18n.js";

const TRANSIENT = new Set([0, 429, 500, 502, 503, 504]); // worth trying again as it is
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 30000;

/** What the page says when a fetch failed with `status` and is tried again in `ms`. */
export function retryNotice(status, ms) {
  return t(status === 429 ? "retry.busy" : "retry.unreachable", { count: Math.round(ms / 1000) });
}

export class CatchUpRetry {
  /**
   * fetch(after): the history fetch; retry(): fetch again (the conversation's catch-up);
   * waiting(notice): a retry is on its way; recovered(): a fetch worked;
   * stopped(): the page is leaving, so nothing is tried again.
   */
  constructor({ fetch, retry, waiting, recovered, stopped = () => false, timers = globalThis }) {
    Object.assign(this, { fetch, retry, waiting, recovered, stopped, timers });
    this.pauseMs = FIRST_PAUSE_MS;
    this.timer = null;
  }

  /** fetch(after), and on a transient failure a retry later; the failure is still thrown. */
  async list(after) {
    let page;
    try {
      page = await this.fetch(after);
    } catch (error) {
      if (TRANSIENT.has(error?.status)) this.later(error);
      throw error;
    }
    this.pauseMs = FIRST_PAUSE_MS;
    this.recovered();
    return page;
  }

  later(error) {
    if (this.timer || this.stopped()) return;
    this.waiting(retryNotice(error.status, this.pauseMs));
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.pauseMs = Math.min(this.pauseMs * 2, MAX_PAUSE_MS);
      this.retry();
    }, this.pauseMs);
  }
}
