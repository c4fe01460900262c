// What the handshake and conversation tests share: a relaying server
// that keeps one hello per seat, and a view that records what a page would show.
import { Handshake } from "../../static_site/js/handshake.js";
import { RoomKeys } from "../../static_site/js/room-keys.js";
import { memoryKeystore as memoryStore } from "../../static_site/js/keystore.js";
import { helloKey, newLinkKey, parseLinkKey } from "../../static_site/js/protocol.js";

export const ROOM = "roomroomroomroomroom1";
export { memoryStore };

/** The server's side of hellos: keeps the last per seat, logs each, pushes it to every page. */
export class HelloServer {
  constructor() {
    this.hellos = new Map();
    this.log = [];
    this.pages = [];
    this.deliver = true; // false: pushes wait in `held` until flush()
    this.held = [];
  }

  publisher(seat) {
    return async (hello) => {
      const stored = { ...hello, seat };
      this.hellos.set(seat, stored);
      this.log.push(stored);
      for (const page of this.pages) {
        if (this.deliver) page.update([stored]).catch(() => {});
        else this.held.push([page, stored]);
      }
      return stored;
    };
  }

  async flush() {
    while (this.held.length) {
      const [page, hello] = this.held.shift();
      await page.update([hello]).catch(() => {});
    }
  }

  list() {
    return [...this.hellos.values()];
  }
}

/** A participant's page: its handshake over a keystore, what it reported. */
export async function page({ server, seat, L, store = memoryStore(), roomId = ROOM, publish, browser = {} }) {
  const problems = [];
  const changes = [];
  const keys = new RoomKeys(store, { roomId, seat, expiresAt: Date.now() + 600_000 },
    { locks: browser.locks, channel: browser.channels?.channel() });
  const handshake = new Handshake({
    roomId, seat, keys,
    helloKey: await helloKey(L, roomId),
    publish: publish ?? server.publisher(seat),
    onChange: (session) => changes.push(session),
    onProblem: (problem) => problems.push(problem),
  });
  keys.onElsewhere(() => handshake.update([]).catch(() => {}));
  server?.pages.push(handshake);
  return { handshake, keys, store, problems, changes, seat };
}

/** A tab closing: the browser lets go of every lock it held. */
export function closeTab({ keys }) {
  for (const { release } of keys.privateKeys.values()) release();
}

/** Lets every pending promise chain run (the server's pushes are fire-and-forget). */
export async function settle(...handshakes) {
  for (let round = 0; round < 20; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await Promise.all(handshakes.map((h) => h.chain));
  }
}

/** Two pages that completed the handshake of generation 1. */
export async function twoPages() {
  const server = new HelloServer();
  const L = parseLinkKey(newLinkKey());
  const one = await page({ server, seat: 1, L });
  await one.handshake.update(server.list());
  const two = await page({ server, seat: 2, L });
  await two.handshake.update(server.list());
  await settle(one.handshake, two.handshake);
  return { server, L, one, two };
}

/** A view that records entries and gap markers in order, as the page's log would. */
export function recordingView() {
  const log = [];
  return {
    log,
    add(entry) {
      const handle = { kind: "message", ...entry };
      log.push(handle);
      return handle;
    },
    update(handle, patch) { Object.assign(handle, patch); },
    remove(handle) { log.splice(log.indexOf(handle), 1); },
    addGap(missing) {
      const handle = { kind: "gap", missing };
      log.push(handle);
      return handle;
    },
    updateGap(handle, missing) { handle.missing = missing; },
    removeGap(handle) { log.splice(log.indexOf(handle), 1); },
    /** A short picture of the log: "own:hi", "other:yo", "other!replay", "gap:2". */
    get picture() {
      return log.map((h) => (h.kind === "gap" ? `gap:${h.missing}`
        : `${h.own ? "own" : "other"}${h.problem ? `!${h.problem}` : ""}${h.text === null ? "" : `:${h.text}`}`));
    },
  };
}

/** Timers on a clock that moves only when a test says so: advance(ms) runs what falls due. */
export function fakeTimers() {
  const timers = new Map();
  let next = 1;
  const clock = {
    now: 0,
    setTimeout(fn, ms = 0) {
      timers.set(next, { fn, at: clock.now + ms });
      return next++;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    get pending() {
      return timers.size;
    },
    advance(ms) {
      const until = clock.now + ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= until).sort(([, a], [, b]) => a.at - b.at)[0];
        if (!due) break;
        const [id, { fn, at }] = due;
        timers.delete(id);
        clock.now = at;
        fn();
      }
      clock.now = until;
    },
  };
  return clock;
}

/** Web Locks as navigator.locks has them, for the tabs of one fake browser (exclusive locks only). */
export class FakeLocks {
  constructor() {
    this.queues = new Map(); // name -> [{grant}] in order; the first holds the lock
  }

  async request(name, options, callback) {
    if (typeof options === "function") [options, callback] = [{}, options];
    const queue = this.queues.get(name) ?? [];
    this.queues.set(name, queue);
    if (options.ifAvailable && queue.length) return callback(null);
    let grant;
    const granted = new Promise((resolve) => { grant = resolve; });
    const entry = { grant };
    queue.push(entry);
    if (queue.length === 1) grant();
    await granted;
    try {
      return await callback({ name });
    } finally {
      queue.shift();
      queue[0]?.grant();
    }
  }
}

/** BroadcastChannels of one fake browser: a message posted by one reaches every other. */
export class FakeChannels {
  constructor() {
    this.open = [];
  }

  channel() {
    const channel = {
      onmessage: null,
      postMessage: (data) => {
        for (const other of this.open) if (other !== channel) queueMicrotask(() => other.onmessage?.({ data }));
      },
    };
    this.open.push(channel);
    return channel;
  }
}
