// The room's WebSocket: pings at once (the first pong carries the presence count) and every
// 20 s while the tab is visible, reconnects with exponential backoff after a drop, and reports
// its state. A server that no longer counts this connection (a push to it was answered 410, so
// it was forgotten) hangs it up when it pings; a ping without a pong (the network silently died)
// closes it here. Either way it is opened again, which registers it anew, and the page catches
// up: pushes stop for at most 20 s + 10% + 6 s. Each ping is an invocation of the $default
// function and 1 Upstash command (every frame names its room, which saves the server a
// lookup), so a hidden tab does not ping (it checks when shown again), and the interval is
// jittered so that a room's tabs do not ping in step. A ping the gateway throttled is answered
// by the gateway itself (a frame with a "message" and no "type"): the socket is alive, so it is
// not replaced (a reconnect would only add load); the next ping asks again.
// When the page comes back (the network returns, the tab shows again, the back-forward cache
// restores it) the socket is checked at once: mobile browsers kill background sockets silently.

export const PING_EVERY_MS = 20000;
const PING_JITTER = 0.1;
export const PONG_WITHIN_MS = 6000;
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
    this.roomId = new URL(url, "http://page.invalid").searchParams.get("roomId");
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
      this.schedulePing();
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
      } else if (event.type === undefined && typeof event.message === "string") {
        clearTimeout(this.pongTimer); // the gateway's own answer (throttled): alive, ask again later
        return;
      }
      this.handlers.onEvent(event);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      clearTimeout(this.pingTimer);
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

  schedulePing() {
    clearTimeout(this.pingTimer);
    const delay = PING_EVERY_MS * (1 - PING_JITTER + 2 * PING_JITTER * Math.random());
    this.pingTimer = setTimeout(() => {
      if (document.visibilityState === "visible") this.ping();
      this.schedulePing();
    }, delay);
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
    this.socket.send(JSON.stringify(this.roomId ? { ...action, roomId: this.roomId } : action));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.socket?.close(1000);
    this.socket = null;
  }
}
