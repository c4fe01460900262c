// Refilling a gap from the store. A gap in what someone sent is almost always a push that was
// lost (the gateway refused it even after its retries, or the server had forgotten this
// connection for a while): the message is stored, but a catch-up asks only for what follows the
// last message seen, so it would stay "missing" until a reload. So once a gap opens, the page
// asks for the history from just before it, by itself: after a pause (a late push may still
// come), then after pauses that double, at most MAX_TRIES times per gap and MAX_PAGES pages per
// try (the next try goes on from where the last one stopped). A gap the store cannot fill (the message fell off the history cap, or a server holds it
// back) stays marked as missing.

export const FIRST_PAUSE_MS = 2000;
export const MAX_TRIES = 4; // after 2, 4, 8 and 16 s
export const MAX_PAGES = 3; // a room's whole history: 500 messages in pages of 200

export class GapRefill {
  /**
   * gaps(): the open gaps, oldest first, each {after: the id of the message before it, or null};
   * list(after) -> {messages, more}: a page of the history after a message (from the start: null);
   * take(messages) -> Promise: shows them as any fetched message (what is shown already is skipped);
   * timers: {setTimeout} (tests pass their own).
   */
  constructor({ gaps, list, take, timers = globalThis }) {
    Object.assign(this, { gaps, list, take, timers });
    this.tries = new WeakMap(); // gap -> tries so far
    this.reached = new WeakMap(); // gap -> the last message id a try has read past it
    this.timer = null;
    this.running = false;
  }

  /** A gap is open: plans a refill, unless one is planned or running. */
  wake() {
    if (this.timer !== null || this.running) return;
    const gap = this.next();
    if (!gap) return;
    const pause = FIRST_PAUSE_MS * 2 ** (this.tries.get(gap) ?? 0);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      return this.run(); // for tests that wait for it
    }, pause);
  }

  /** The oldest open gap that has tries left. */
  next() {
    return this.gaps().find((gap) => (this.tries.get(gap) ?? 0) < MAX_TRIES);
  }

  async run() {
    const gap = this.next();
    if (!gap) return;
    this.tries.set(gap, (this.tries.get(gap) ?? 0) + 1);
    this.running = true;
    try {
      for (let pages = 0; pages < MAX_PAGES; pages += 1) {
        const page = await this.list(this.reached.has(gap) ? this.reached.get(gap) : gap.after);
        await this.take(page.messages);
        if (!page.more || !page.messages.length) break;
        this.reached.set(gap, page.messages[page.messages.length - 1].id);
      }
    } catch {
      // The fetch says so itself (catch-up.js); the next try comes after the next pause.
    } finally {
      this.running = false;
    }
    this.wake();
  }
}
