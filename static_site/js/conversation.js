// The conversation's logic, without DOM or network (both come in as functions):
// - own messages are shown at once, sealed once a session exists ("sends when they join"),
//   sent one at a time in the order written, retried with the same clientId and ciphertext,
//   and confirmed by whichever comes first: the POST's answer, a push, or a catch-up;
// - every message from the server is shown once (by id), in the server's order; pushes that
//   arrive during a catch-up wait for it;
// - the receive checks of docs/protocol.md: unverifiable, earlier keys, reflection, and per
//   (epoch, seat) replay, gap and out of order. A bad message is shown in place as such;
//   a gap is refilled from the store by itself (refill.js), since it is most often a lost push.
//   An epoch this browser holds no keys for is "earlier keys" when it may have lost some
//   (it holds no pair of generation 1), otherwise "unverifiable": every generation that
//   carried messages had a pair of ours, so an unknown epoch is not of this room.
import { openSealed, parseWire, seal } from "./protocol.js";
import { GapRefill } from "./refill.js";

const LOCAL = Symbol("sealed here, not yet confirmed");

/**
 * deps:
 *   roomId, seat, name() -> our display name;
 *   api: {send({text, clientId}) -> {message}, list(after?) -> {messages, hellos, more}};
 *   keys: {current() -> session | null, sessionFor(epoch) -> session | undefined, takeSeq(epoch) -> int,
 *          lostEarlier() -> whether this browser may have lost the keys of earlier generations};
 *   onHellos(hellos) -> Promise (the handshake takes them before the page's messages are opened);
 *   view: {add(entry) -> handle, update(handle, patch), remove(handle),
 *          addGap(missing) -> handle, updateGap(handle, missing), removeGap(handle)}
 *     entry = {own, sender, text, timestamp?, status: "waiting"|"sending"|"sent"|"failed", problem?, error?};
 *   onIncoming({name}) for each new readable message of the other person; onError(error) for API errors;
 *   clientId() -> a fresh id for each send; timers: {setTimeout} for the gap refill (globalThis).
 */
export class Conversation {
  constructor(deps) {
    this.deps = { onIncoming() {}, onError() {}, onHellos: async () => {}, clientId: () => crypto.randomUUID(), ...deps };
    this.queue = Promise.resolve(); // every view change of a server message, in order
    this.seen = new Map(); // message id -> handle (null while being opened)
    this.sends = new Map(); // handle of an own message not yet confirmed -> send
    this.streams = new Map(); // `${epoch}|${seat}` -> {highest, seqs: Map(seq -> id | LOCAL), gaps: [{from, to, filled, handle, after, opened}]}
    this.gapsOpened = 0;
    this.sendChain = Promise.resolve();
    this.lastId = null;
    this.catchUps = 0;
    this.held = [];
    this.refill = new GapRefill({
      gaps: () => this.openGaps(),
      list: (after) => this.deps.api.list(after),
      take: (messages) => {
        for (const message of messages) this.enqueue(() => this.ingest(message));
        return this.queue;
      },
      timers: this.deps.timers,
    });
  }

  enqueue(task) {
    const run = this.queue.then(task);
    this.queue = run.catch((error) => this.deps.onError(error));
    return run;
  }

  /** Resolves once every queued view change and send is done. */
  async idle() {
    let queue;
    let sends;
    do {
      ({ queue, sendChain: sends } = this);
      await Promise.all([queue, sends]);
    } while (queue !== this.queue || sends !== this.sendChain);
  }

  // ---------- sending ----------

  /** Shows an own message at once and sends it when it can. */
  write(text) {
    const handle = this.deps.view.add({ own: true, sender: this.deps.name(), text, status: this.deps.keys.current() ? "sending" : "waiting" });
    this.sends.set(handle, { clientId: this.deps.clientId(), text, wire: null, queued: false, failed: false });
    this.pump();
    return handle;
  }

  /** A session now exists, or a failed send is retried: send what waits, in order. */
  pump() {
    for (const [handle, send] of this.sends) if (!send.failed) this.deliver(handle, send);
  }

  retry(handle) {
    const send = this.sends.get(handle);
    if (!send) return;
    send.failed = false;
    this.deliver(handle, send);
  }

  /** The texts of own messages not yet stored (waiting for the other person, sending or failed), in order. */
  unsent() {
    return [...this.sends.values()].map((send) => send.text);
  }

  retryFailed() {
    for (const [handle, send] of this.sends) if (send.failed) this.retry(handle);
  }

  deliver(handle, send) {
    if (send.queued) return;
    send.queued = true;
    this.sendChain = this.sendChain.then(() => this.post(handle, send));
  }

  async post(handle, send) {
    if (!this.sends.has(handle)) return;
    const { view, keys, api } = this.deps;
    let outcome;
    try {
      if (!send.wire) {
        const session = keys.current();
        if (!session) {
          send.queued = false;
          view.update(handle, { status: "waiting" });
          return;
        }
        const seq = await keys.takeSeq(session.epoch);
        send.wire = await seal(session.sendKey, this.deps.roomId, session.epoch, this.deps.seat, { name: this.deps.name(), text: send.text, seq });
        send.epoch = session.epoch;
        send.seq = seq;
        const stream = this.stream(session.epoch, this.deps.seat);
        stream.seqs.set(seq, LOCAL);
        stream.highest = Math.max(stream.highest, seq);
      }
      view.update(handle, { status: "sending" });
      outcome = { message: (await api.send({ text: send.wire, clientId: send.clientId })).message };
    } catch (error) {
      outcome = { error };
    }
    await this.enqueue(() => this.settle(handle, send, outcome));
  }

  settle(handle, send, { message, error }) {
    send.queued = false;
    if (!this.sends.has(handle)) return; // a push or a catch-up confirmed it already
    if (message) {
      const shown = this.seen.get(message.id);
      if (shown && shown !== handle) {
        this.sends.delete(handle);
        this.deps.view.remove(handle);
      } else {
        this.confirm(handle, send, message);
      }
    } else {
      send.failed = true;
      this.deps.view.update(handle, { status: "failed", error });
      this.deps.onError(error);
    }
  }

  confirm(handle, send, message) {
    this.sends.delete(handle);
    this.seen.set(message.id, handle);
    this.stream(send.epoch, this.deps.seat).seqs.set(send.seq, message.id);
    this.deps.view.update(handle, { status: "sent", timestamp: message.timestamp });
  }

  // ---------- receiving ----------

  /** A message pushed over the WebSocket (a frame without one is ignored). */
  push(message) {
    if (typeof message !== "object" || message === null || typeof message.id !== "string") return;
    if (this.catchUps > 0) {
      this.held.push(message);
      return;
    }
    this.lastId = message.id;
    this.enqueue(() => this.ingest(message));
  }

  /** Fetches every page after the last message seen (all of them the first time), then retries failed sends. */
  async catchUp() {
    this.catchUps += 1;
    try {
      let more = true;
      while (more) {
        const page = await this.deps.api.list(this.lastId);
        await this.deps.onHellos(page.hellos ?? []).catch((error) => this.deps.onError(error));
        for (const message of page.messages) this.enqueue(() => this.ingest(message));
        if (page.messages.length) this.lastId = page.messages[page.messages.length - 1].id;
        more = Boolean(page.more) && page.messages.length > 0;
      }
      this.enqueue(() => this.retryFailed());
    } catch (error) {
      this.deps.onError(error);
    } finally {
      this.catchUps -= 1;
      if (this.catchUps === 0) {
        const waiting = this.held;
        this.held = [];
        waiting.forEach((message) => this.push(message));
      }
    }
  }

  /** Every gap not yet filled, oldest first. */
  openGaps() {
    return [...this.streams.values()].flatMap((stream) => stream.gaps).sort((a, b) => a.opened - b.opened);
  }

  stream(epoch, seat) {
    const key = `${epoch}|${seat}`;
    if (!this.streams.has(key)) this.streams.set(key, { highest: 0, seqs: new Map(), gaps: [] });
    return this.streams.get(key);
  }

  /** The message's content, or the problem that keeps it from being shown. */
  async open(message) {
    const { roomId, seat: mine } = this.deps;
    const wire = parseWire(message.text);
    if (!wire || (message.seat !== 1 && message.seat !== 2)) return { problem: "unverifiable" };
    const session = await this.deps.keys.sessionFor(wire.epoch);
    // An epoch we hold no keys for is an earlier one only if we may have lost some; else it is not of this room.
    if (!session) return { problem: (await this.deps.keys.lostEarlier()) ? "earlier-keys" : "unverifiable" };
    const key = message.seat === mine ? session.sendKey : session.recvKey;
    const body = await openSealed(key, roomId, wire.epoch, message.seat, wire.sealed);
    if (body) return { ...body, epoch: wire.epoch };
    if (message.seat !== mine && (await openSealed(session.sendKey, roomId, wire.epoch, mine, wire.sealed))) {
      return { problem: "reflection" };
    }
    return { problem: "unverifiable" };
  }

  async ingest(message) {
    if (this.seen.has(message.id)) return;
    this.seen.set(message.id, null);
    const own = message.seat === this.deps.seat;
    if (own) {
      for (const [handle, send] of this.sends) {
        if (send.wire === message.text) return this.confirm(handle, send, message);
      }
    }
    const opened = await this.open(message);
    const { view } = this.deps;
    const entry = { own, sender: opened.name ?? null, text: opened.text ?? null, timestamp: message.timestamp, status: "sent" };
    if (opened.problem) {
      this.seen.set(message.id, view.add({ ...entry, problem: opened.problem }));
      return;
    }
    const stream = this.stream(opened.epoch, message.seat);
    const { seq } = opened;
    if (stream.seqs.has(seq)) {
      this.seen.set(message.id, view.add({ ...entry, text: null, problem: "replay" }));
      return;
    }
    stream.seqs.set(seq, message.id);
    if (seq > stream.highest + 1) {
      // A range, not the list of its numbers: a peer's seq may jump by 2**53.
      // The refill asks for what follows the message before the gap (all, if there is none).
      const before = stream.seqs.get(stream.highest);
      const after = typeof before === "string" ? before : null;
      const gap = { from: stream.highest + 1, to: seq - 1, filled: new Set(), after, opened: this.gapsOpened++ };
      gap.handle = view.addGap(gap.to - gap.from + 1);
      stream.gaps.push(gap);
      this.refill.wake();
    } else if (seq < stream.highest) {
      entry.problem = "out-of-order";
      const gap = stream.gaps.find(({ from, to, filled }) => from <= seq && seq <= to && !filled.has(seq));
      if (gap) {
        gap.filled.add(seq);
        const missing = gap.to - gap.from + 1 - gap.filled.size;
        if (missing) view.updateGap(gap.handle, missing);
        else {
          view.removeGap(gap.handle);
          stream.gaps.splice(stream.gaps.indexOf(gap), 1);
        }
      }
    }
    stream.highest = Math.max(stream.highest, seq);
    this.seen.set(message.id, view.add(entry));
    if (!own) this.deps.onIncoming({ name: opened.name });
  }
}
