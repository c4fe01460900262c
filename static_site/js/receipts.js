// Sealed receipts (docs/protocol.md, "Receipts and what each side had"): what this page had of
// the other's messages, told to the other, and what the other had of ours, taken from theirs.
// A receipt is sealed like a message under our direction key, with its own label, and relayed
// by the server without being stored; it is cumulative (delivered up to seq d, read up to r),
// so one receipt covers a burst, and a message sealed meanwhile carries the same facts instead.
// Pure: the socket, the keys and the clock come in as functions.
import { openReceipt, parseWire, sealReceipt, WIRE_VERSION } from "./protocol.js";

/** How long a page waits to batch what it received before it says so (a message sent meanwhile says it instead). */
export const RECEIPT_DELAY_MS = 2000;

/**
 * deps: roomId, seat, name() -> our display name; keys: {current() -> session | null, sessionFor(epoch)};
 *   send(wire) -> whether it went out (the socket was open); sent(epoch) -> the highest seq we sealed in it;
 *   readReceipts() -> whether the person lets the other see what they read;
 *   onName(name) with the other's name; onAcks(epoch, {delivered, read?}) with what the other had of ours;
 *   onSent(epoch, seq) with the highest seq the other says it sealed; onRefused(kind) for a receipt refused
 *   ("unverifiable", "reflection", "replay", "newer-version"); now() and timers: {setTimeout, clearTimeout}.
 */
export class Receipts {
  constructor(deps) {
    this.deps = {
      now: () => Date.now(), timers: globalThis, readReceipts: () => true,
      onName() {}, onAcks() {}, onSent() {}, onRefused() {}, ...deps,
    };
    this.had = new Map(); // epoch -> {delivered, read}: what we had of theirs
    this.told = new Map(); // epoch -> {delivered, read}: what the other was last told
    this.taken = new Set(); // the wire texts of receipts taken: the same bytes again are a replay
    this.timer = null;
    this.chain = Promise.resolve();
  }

  of(epoch) {
    if (!this.had.has(epoch)) this.had.set(epoch, { delivered: 0, read: 0 });
    return this.had.get(epoch);
  }

  /** We hold every message of theirs up to `delivered` in this epoch. */
  received(epoch, delivered) {
    const had = this.of(epoch);
    if (delivered <= had.delivered) return;
    had.delivered = delivered;
    this.schedule();
  }

  /** Their message `seq` was on screen in a visible tab. */
  shown(epoch, seq) {
    const had = this.of(epoch);
    if (seq <= had.read) return;
    had.read = seq;
    if (this.deps.readReceipts()) this.schedule();
  }

  /** What we have to say of theirs in this epoch: {delivered, read?} (read only when on, never above delivered). */
  facts(epoch) {
    const { delivered, read } = this.of(epoch);
    return this.deps.readReceipts() ? { delivered, read: Math.min(read, delivered) } : { delivered };
  }

  /** The {ack, read?} a message sealed now carries; the other is told by it, so no receipt is due for it. */
  stamp(epoch) {
    const facts = this.facts(epoch);
    this.told.set(epoch, facts);
    return { ack: facts.delivered, ...(facts.read === undefined ? {} : { read: facts.read }) };
  }

  schedule() {
    if (this.timer !== null) return;
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = null;
      this.flush().catch(() => {});
    }, RECEIPT_DELAY_MS);
    this.timer?.unref?.(); // Node's timers (the tests'): a pending one keeps no process alive
  }

  /** Sends a receipt of the current epoch if it says something new (or always, when `force`). */
  flush({ force = false } = {}) {
    const run = this.chain.then(async () => {
      const session = this.deps.keys.current();
      if (!session) return false;
      const { epoch } = session;
      const facts = this.facts(epoch);
      const told = this.told.get(epoch);
      if (!force && told && told.delivered === facts.delivered && told.read === facts.read) return false;
      const wire = await sealReceipt(session.sendKey, this.deps.roomId, epoch, this.deps.seat, {
        name: this.deps.name(), ...facts, sent: this.deps.sent(epoch), clock: this.deps.now(),
      });
      const went = this.deps.send(wire);
      if (went) this.told.set(epoch, facts);
      return went;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Says who we are and what we had, now: once keys are agreed and whenever the other connects. */
  announce() {
    return this.flush({ force: true });
  }

  /** A receipt frame from the server ({type: "receipt", text}): taken only if the other sealed it for this room. */
  async take(frame) {
    const text = frame?.text;
    const refuse = (kind) => {
      this.deps.onRefused(kind);
      return false;
    };
    const wire = parseWire(text);
    if (!wire) return refuse("unverifiable");
    if (wire.version > WIRE_VERSION) return refuse("newer-version");
    if (wire.version !== WIRE_VERSION) return refuse("unverifiable");
    if (this.taken.has(text)) return refuse("replay");
    const session = await this.deps.keys.sessionFor(wire.epoch);
    if (!session) return refuse("unverifiable");
    const { roomId, seat } = this.deps;
    const receipt = await openReceipt(session.recvKey, roomId, wire.epoch, seat === 1 ? 2 : 1, wire.sealed);
    if (!receipt) {
      const ours = await openReceipt(session.sendKey, roomId, wire.epoch, seat, wire.sealed);
      return refuse(ours ? "reflection" : "unverifiable");
    }
    this.taken.add(text);
    this.deps.onName(receipt.name);
    this.deps.onAcks(wire.epoch, { delivered: receipt.delivered, read: receipt.read });
    this.deps.onSent(wire.epoch, receipt.sent);
    return true;
  }
}
