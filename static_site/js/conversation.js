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
//   carried messages had a pair of ours, so an unknown epoch is not of this room;
// - what each side had of the other (docs/protocol.md, "Receipts and what each side had"):
//   our messages go ✓ stored, ✓✓ delivered, read, or "not delivered yet" when the other is
//   here and says nothing of them; a message of theirs written before ours reached them says so.
import { openSealed, parseWire, seal, WIRE_VERSION } from "./protocol.js";
import { Receipts } from "./receipts.js";
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
 *   clientId() -> a fresh id for each send; timers: {setTimeout} for the gap refill (globalThis);
 *   clock: {now() -> ms, setTimeout, clearTimeout} for receipts and delivery (Date.now and globalThis);
 *   sendReceipt(wire) -> whether the socket took it; readReceipts() -> whether read receipts are on;
 *   otherPresent() -> whether the other person is connected; onName(name) with the other's name, sealed;
 *   onRefusedReceipt(kind) for a receipt that is not the other's.
 * entry (view.add / update) also carries clock (the sender's, ms), unseen (how many of our messages the
 * author of this one had not received when writing it) and status "delivered" | "read" | "undelivered".
 */
export const DELIVERY_WAIT_MS = 20_000; // the other is here and has not said a message of ours arrived
export const RECEIPT_GAP_GRACE_MS = 5_000; // a receipt may overtake the push of the message it counts
export class Conversation {
  constructor(deps) {
    this.deps = {
      onIncoming() {}, onError() {}, onHellos: async () => {}, clientId: () => crypto.randomUUID(),
      clock: { now: () => Date.now(), setTimeout: (...a) => setTimeout(...a), clearTimeout: (t) => clearTimeout(t) }, sendReceipt: () => false, readReceipts: () => true,
      otherPresent: () => false, onName() {}, onRefusedReceipt() {}, ...deps,
    };
    this.reads = new Map(); // handle of a message of theirs -> {epoch, seq}, for read receipts
    this.awaiting = new Set(); // `${epoch}|${seq}` of ours, stored, not yet had, while the other was away
    this.transcript = []; // {handle, own, sender, text, clock} of every readable message, in the log's order
    this.receipts = new Receipts({
      roomId: this.deps.roomId, seat: this.deps.seat, name: () => this.deps.name(), keys: this.deps.keys,
      send: (wire) => this.deps.sendReceipt(wire), sent: (epoch) => this.stream(epoch, this.deps.seat).highest,
      readReceipts: () => this.deps.readReceipts(), now: () => this.deps.clock.now(), timers: this.deps.clock,
      onName: (name) => this.deps.onName(name),
      onAcks: (epoch, acks) => this.acknowledged(epoch, acks), // within takeReceipt's turn in the queue
      onSent: (epoch, seq) => this.theySent(epoch, seq),
      onRefused: (kind) => this.deps.onRefusedReceipt(kind),
    });
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
    this.transcript.push({ handle, own: true, sender: this.deps.name(), text, clock: this.deps.clock.now() });
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
        const clock = this.deps.clock.now();
        send.wire = await seal(session.sendKey, this.deps.roomId, session.epoch, this.deps.seat, {
          name: this.deps.name(), text: send.text, seq, clock, ...this.receipts.stamp(session.epoch),
        });
        send.epoch = session.epoch;
        send.seq = seq;
        const stream = this.stream(session.epoch, this.deps.seat);
        stream.seqs.set(seq, LOCAL);
        stream.handles.set(seq, handle);
        stream.highest = Math.max(stream.highest, seq);
        const line = this.transcript.find((each) => each.handle === handle);
        if (line) line.clock = clock;
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
        this.forget(handle);
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
    const stream = this.stream(send.epoch, this.deps.seat);
    stream.seqs.set(send.seq, message.id);
    this.deps.view.update(handle, { status: this.ownStatus(stream, send.seq), timestamp: message.timestamp });
    this.watchDelivery(send.epoch, send.seq);
  }

  forget(handle) {
    this.deps.view.remove(handle);
    this.transcript = this.transcript.filter((line) => line.handle !== handle);
  }

  // ---------- what each side had of the other ----------

  /** "read", "delivered" or "sent" for our message `seq`, from what the other said it had. */
  ownStatus(stream, seq) {
    if (seq <= stream.read) return "read";
    return seq <= stream.delivered ? "delivered" : "sent";
  }

  /** The other had our messages up to `delivered` (and read up to `read`) in this epoch. */
  acknowledged(epoch, { delivered, read = 0 }) {
    const stream = this.stream(epoch, this.deps.seat);
    if (delivered <= stream.delivered && read <= stream.read) return;
    stream.delivered = Math.max(stream.delivered, delivered);
    stream.read = Math.max(stream.read, read);
    for (const [seq, handle] of stream.handles) {
      if (this.sends.has(handle)) continue; // not stored yet: it says "sending" until the answer
      const status = this.ownStatus(stream, seq);
      if (status !== "sent") this.deps.view.update(handle, { status });
    }
  }

  /**
   * A stored message of ours the other has not said it had, while they are here, says "not delivered
   * yet"; while they are away it waits for them (otherArrived).
   */
  watchDelivery(epoch, seq) {
    this.later(() => this.enqueue(() => {
      const stream = this.stream(epoch, this.deps.seat);
      const handle = stream.handles.get(seq);
      if (!handle || seq <= stream.delivered) return;
      if (this.deps.otherPresent()) this.deps.view.update(handle, { status: "undelivered" });
      else this.awaiting.add(`${epoch}|${seq}`);
    }), DELIVERY_WAIT_MS);
  }

  /** The other person connected: they say what they had (announce), and what they don't is watched again. */
  otherArrived() {
    const waiting = [...this.awaiting];
    this.awaiting.clear();
    for (const key of waiting) {
      const [epoch, seq] = key.split("|");
      this.watchDelivery(epoch, Number(seq));
    }
  }

  later(task, ms) {
    const timer = this.deps.clock.setTimeout(task, ms);
    timer?.unref?.(); // Node's timers (the tests'): a pending one keeps no process alive
  }

  /** The other says it sealed up to `seq`: what we lack of that (a withheld or dropped last message) is a gap. */
  theySent(epoch, seq) {
    const stream = this.stream(epoch, this.deps.seat === 1 ? 2 : 1);
    if (seq <= this.covered(stream)) return;
    this.later(() => this.enqueue(() => {
      const from = this.covered(stream) + 1;
      if (seq < from) return;
      this.openGap(stream, from, seq);
    }), RECEIPT_GAP_GRACE_MS);
  }

  /** The highest seq the stream has, or a gap marker already stands for. */
  covered(stream) {
    return Math.max(stream.highest, ...stream.gaps.map((gap) => gap.to));
  }

  /** The other's messages we hold with none missing below: what a receipt says we had. */
  contiguous(stream) {
    const missing = stream.gaps.flatMap((gap) => {
      for (let seq = gap.from; seq <= gap.to; seq += 1) if (!gap.filled.has(seq)) return [seq];
      return [];
    });
    return missing.length ? Math.min(...missing) - 1 : stream.highest;
  }

  openGap(stream, from, to) {
    // A range, not the list of its numbers: a peer's seq may jump by 2**53.
    // The refill asks for what follows the message before the gap (all, if there is none).
    const before = stream.seqs.get(stream.highest);
    const after = typeof before === "string" ? before : null;
    const gap = { from, to, filled: new Set(), after, opened: this.gapsOpened++ };
    gap.handle = this.deps.view.addGap(to - from + 1);
    stream.gaps.push(gap);
    this.refill.wake();
  }

  /** The view says their message was on screen in a visible tab. */
  shown(handle) {
    const line = this.reads.get(handle);
    if (line) this.receipts.shown(line.epoch, line.seq);
  }

  /** Says who we are and what we had (keys agreed, the other connected); a receipt frame arrived. */
  announce() {
    return this.receipts.announce();
  }

  /** A receipt frame, taken in turn with the messages (so its acks meet the handles they name). */
  takeReceipt(frame) {
    return this.enqueue(() => this.receipts.take(frame));
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
    if (!this.streams.has(key)) {
      // handles, delivered, read: our own streams only (what the other said it had of ours).
      this.streams.set(key, { highest: 0, seqs: new Map(), gaps: [], handles: new Map(), delivered: 0, read: 0 });
    }
    return this.streams.get(key);
  }

  /** The message's content, or the problem that keeps it from being shown. */
  async open(message) {
    const { roomId, seat: mine } = this.deps;
    const wire = parseWire(message.text);
    if (wire && wire.version > WIRE_VERSION) return { problem: "newer-version" };
    if (!wire || wire.version !== WIRE_VERSION || (message.seat !== 1 && message.seat !== 2)) return { problem: "unverifiable" };
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
    const entry = {
      own, sender: opened.name ?? null, text: opened.text ?? null, timestamp: message.timestamp,
      clock: opened.clock, status: "sent",
    };
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
    if (seq < stream.highest) entry.problem = "out-of-order";
    const from = this.covered(stream) + 1;
    if (seq > from) this.openGap(stream, from, seq - 1);
    stream.highest = Math.max(stream.highest, seq);
    if (own) {
      entry.status = this.ownStatus(stream, seq);
    } else {
      // What its author had of ours when writing it: acks, and those of ours it had not seen.
      const mine = this.stream(opened.epoch, this.deps.seat);
      const unseen = [...mine.seqs.keys()].filter((n) => n > opened.ack).length;
      if (unseen) entry.unseen = unseen;
    }
    const handle = view.add(entry);
    this.seen.set(message.id, handle);
    if (entry.text !== null) this.transcript.push({ handle, own, sender: entry.sender, text: entry.text, clock: entry.clock });
    if (own) {
      stream.handles.set(seq, handle);
      if (entry.status === "sent") this.watchDelivery(opened.epoch, seq);
      return;
    }
    this.reads.set(handle, { epoch: opened.epoch, seq });
    await this.acknowledged(opened.epoch, { delivered: opened.ack, read: opened.read });
    this.receipts.received(opened.epoch, this.contiguous(stream));
    this.deps.onIncoming({ name: opened.name });
  }
}
