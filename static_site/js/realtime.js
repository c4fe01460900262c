// The room's WebSocket: pings at once (the first pong carries the presence count) and every
// few minutes, reconnects with exponential backoff after a drop, and reports its state.
// A ping without a pong means the server no longer counts this connection (or the network
// silently died): the socket is closed and opened again, which registers it anew.
// When the page comes back (the network returns, the tab shows again, the back-forward cache
// restores it) the socket is checked at once: mobile browsers kill background sockets silently.

const PING_EVERY_MS = 4 * 60 * 1000;
const PONG_WITHIN_MS = 6000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;

export class RoomSocket {
  /**
   * handlers: onOpen() after each (re)connect; onEvent(event) for each server event;
   * onState("connecting" | "open" | "reconnecting"); beforeRetry() -> Promise<boolean>,
   * asked before each retry, false stops reconnecting.
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.socket = null;
    this.failures = 0;
    this.stopped = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    addEventListener("online", () => this.check());
    addEventListener("pageshow", (event) => { if (event.persisted) this.check(); });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.check();
    });
  }

  start() {
    this.handlers.onState(this.failures ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.ping();
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.ping(), PING_EVERY_MS);
      this.handlers.onState("open");
      this.handlers.onOpen();
    });
    socket.addEventListener("message", (frame) => {
      let event;
      try {
        event = JSON.parse(frame.data);
      } catch {
        return;
      }
      if (event.type === "pong") {
        this.failures = 0;
        clearTimeout(this.pongTimer);
      }
      this.handlers.onEvent(event);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      clearInterval(this.pingTimer);
      clearTimeout(this.pongTimer);
      this.socket = null;
      if (!this.stopped) this.scheduleRetry();
    });
  }

  scheduleRetry() {
    this.handlers.onState("reconnecting");
    const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.failures);
    const delay = backoff * (0.75 + Math.random() / 2);
    this.failures += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(async () => {
      this.retryTimer = null;
      if (this.stopped) return;
      if (await this.handlers.beforeRetry()) this.start();
    }, delay);
  }

  /** An open socket is pinged (no pong: it is replaced); one waiting to reconnect does it now. */
  check() {
    if (this.stopped) return;
    if (this.isOpen) this.ping();
    else if (!this.socket && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.failures = 0;
      this.start();
    }
  }

  ping() {
    if (!this.send({ action: "ping" })) return;
    const socket = this.socket;
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => socket.close(4001, "no pong"), PONG_WITHIN_MS);
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  send(action) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(action));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.socket?.close(1000);
    this.socket = null;
  }
}
