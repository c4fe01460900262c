// realtime.js: the heartbeat that finds a connection the server forgot within 30 s, without
// pinging from hidden tabs. A fake WebSocket and document, and node's mocked timers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

class FakeSocket {
  static OPEN = 1;
  static made = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.listeners = {};
    FakeSocket.made.push(this);
  }

  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }

  emit(type, event = {}) {
    for (const listener of this.listeners[type] ?? []) listener(event);
  }

  open() {
    this.readyState = FakeSocket.OPEN;
    this.emit("open");
  }

  send(data) {
    this.sent.push(JSON.parse(data));
  }

  /** What the server answers: a frame of JSON. */
  receive(event) {
    this.emit("message", { data: JSON.stringify(event) });
  }

  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit("close");
  }

  get pings() {
    return this.sent.filter((frame) => frame.action === "ping").length;
  }
}

globalThis.WebSocket = FakeSocket;
globalThis.addEventListener = () => {};
globalThis.document = { visibilityState: "visible", addEventListener() {} };
const { PING_EVERY_MS, PONG_WITHIN_MS, RoomSocket } = await import("../../static_site/js/realtime.js");

/** Lets the promises of a retry (beforeRetry) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function openSocket() {
  const socket = new RoomSocket("ws://stack/ws?roomId=r", {
    onOpen() {},
    onEvent() {},
    onState() {},
    beforeRetry: async () => true,
  });
  socket.start();
  const first = FakeSocket.made.at(-1);
  first.open();
  first.receive({ type: "pong", online: 2 });
  return { socket, first };
}

describe("the heartbeat", () => {
  beforeEach(() => {
    FakeSocket.made = [];
    document.visibilityState = "visible";
    mock.timers.enable({ apis: ["setTimeout"] });
  });
  afterEach(() => {
    mock.timers.reset();
    mock.restoreAll();
  });

  test("a visible page pings every 20 s, give or take 10%, so tabs do not ping in step", () => {
    for (const [random, every] of [[0, 18000], [1, 22000]]) {
      mock.method(Math, "random", () => random);
      const { socket, first } = openSocket();
      assert.equal(first.pings, 1); // at once: the pong carries the presence count
      mock.timers.tick(every - 1);
      assert.equal(first.pings, 1);
      mock.timers.tick(1);
      assert.equal(first.pings, 2);
      first.receive({ type: "pong", online: 2 });
      mock.timers.tick(every);
      assert.equal(first.pings, 3);
      socket.stop();
      mock.restoreAll();
    }
  });

  test("a connection the server hangs up on, or that gets no pong, is open again within 30 s", async () => {
    mock.method(Math, "random", () => 1); // the longest waits
    for (const serverHangsUp of [true, false]) {
      const { socket, first } = openSocket();
      let waited = 0;
      const wait = async (ms) => {
        mock.timers.tick(ms);
        waited += ms;
        await settle();
      };
      await wait(PING_EVERY_MS * 1.1);
      assert.equal(first.pings, 2);
      if (serverHangsUp) first.close(); // the server forgot it: its ping is answered with a hang-up
      else await wait(PONG_WITHIN_MS); // no pong: closed here
      assert.equal(first.readyState, 3);
      while (FakeSocket.made.at(-1) === first && waited < 30000) await wait(100);
      assert.notEqual(FakeSocket.made.at(-1), first);
      assert.ok(waited <= 30000, `${waited} ms`);
      socket.stop();
    }
  });

  test("every frame names the room, so the server reads it with one command", () => {
    const { socket, first } = openSocket();
    socket.send({ action: "typing" });
    assert.deepEqual(first.sent, [{ action: "ping", roomId: "r" }, { action: "typing", roomId: "r" }]);
    socket.stop();
  });

  test("a ping the gateway throttled keeps the socket: no reconnect loop, the next ping asks again", () => {
    mock.method(Math, "random", () => 1);
    const { socket, first } = openSocket();
    mock.timers.tick(PING_EVERY_MS * 1.1);
    assert.equal(first.pings, 2);
    first.receive({ message: "Too Many Requests", connectionId: "c", requestId: "q" });
    mock.timers.tick(PONG_WITHIN_MS * 2);
    assert.equal(first.readyState, FakeSocket.OPEN);
    assert.equal(FakeSocket.made.at(-1), first);
    mock.timers.tick(PING_EVERY_MS * 1.1);
    assert.equal(first.pings, 3);
    socket.stop();
  });

  test("a hidden page does not ping (each ping is an invocation and Upstash commands)", () => {
    const { socket, first } = openSocket();
    document.visibilityState = "hidden";
    mock.timers.tick(10 * PING_EVERY_MS);
    assert.equal(first.pings, 1);
    document.visibilityState = "visible";
    mock.timers.tick(1.1 * PING_EVERY_MS);
    assert.equal(first.pings, 2);
    socket.stop();
  });
});
