// Sends that will go out by themselves (message-view.js's "pending": no network, no server,
// or "slow down") are tried again here, after a pause that grows from 2 s to 30 s, so that
// what the bubble promises happens even when no reconnect or "online" event comes to do it.

export const FIRST_PAUSE_MS = 2000;
export const LONGEST_PAUSE_MS = 30000;

export class Resender {
  /** retry(): sends every pending message again; online(): whether the browser has a network
   * (offline, the "online" event resends instead). */
  constructor({ retry, online = () => navigator.onLine, timers = globalThis }) {
    this.retryAll = retry;
    this.online = online;
    this.timers = timers;
    this.timer = null;
    this.pause = FIRST_PAUSE_MS;
  }

  /** A send is pending: try again after the pause (once, however many are pending). */
  pending() {
    if (this.timer !== null || !this.online()) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.retryAll();
    }, this.pause);
    this.pause = Math.min(this.pause * 2, LONGEST_PAUSE_MS);
  }

  /** A send went through: the next pause starts short again. */
  sent() {
    this.pause = FIRST_PAUSE_MS;
  }

  stop() {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
