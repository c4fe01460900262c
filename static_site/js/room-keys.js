// Keys of one room in this browser: what rests in the keystore, and what only this page holds.

/**
 * One room's record in a keystore ({get, update} as keystore.js has them): the public half of
 * each generation's pair, sessions per epoch, and sequence numbers taken atomically (two tabs
 * never share one). Private keys never rest: they live in this page's memory until their session
 * is derived (docs/protocol.md, "Keys at rest"), so every engine can keep what rests, WebKit too.
 *
 * Tabs of one browser coordinate through two optional browser facilities:
 * - `locks` (Web Locks): the page that holds a generation's private key holds a lock named for it,
 *   so another tab can tell "held by a tab still open" from "lost with a closed or reloaded tab";
 * - `channel` (a BroadcastChannel): a page that derives a session says so, so the others read it.
 */
// The longest a room can live (template.yaml's RoomTtlSeconds MaxValue): what rests of a room is
// deleted by then at the latest, whatever time left a server claims.
export const MAX_ROOM_LIFE_S = 86400;

export class RoomKeys {
  constructor(store, { roomId, seat, expiresAt }, { locks = globalThis.navigator?.locks, channel = null, now = Date.now } = {}) {
    this.store = store;
    this.base = { roomId, seat, expiresAt: Math.min(expiresAt, now() + MAX_ROOM_LIFE_S * 1000) };
    this.cache = new Map(); // epoch -> session, for this page
    this.privateKeys = new Map(); // generation -> {privateKey, release}: this page's only
    this.locks = locks;
    this.channel = channel;
    this.listeners = [];
    this.waiting = new Set(); // generations whose lock we wait for
    if (channel) channel.onmessage = ({ data }) => {
      if (data?.roomId === roomId) for (const listener of this.listeners) listener();
    };
  }

  /** Calls `listener` when another tab of this browser derived a session of this room, or let a private key go. */
  onElsewhere(listener) {
    this.listeners.push(listener);
  }

  async change(edit) {
    return this.store.update(this.base.roomId, (found) => {
      const record = found?.seat === this.base.seat ? found : { ...this.base, pairs: {}, sessions: {} };
      // Never later than it was: a room's life only runs down, so no answer can keep keys longer.
      record.expiresAt = Math.min(found?.seat === this.base.seat ? found.expiresAt : Infinity, this.base.expiresAt);
      const result = edit(record);
      return { record, result };
    });
  }

  /** Writes the record (for this seat, with its expiry) if it is not there yet. */
  save() {
    return this.change(() => {});
  }

  /** {pub, privateKey?} of a generation: the pub as kept, the private key only if this page holds it. */
  async pair(generation) {
    const record = await this.store.get(this.base.roomId);
    const kept = record?.seat === this.base.seat ? record.pairs[generation] : undefined;
    if (!kept) return undefined;
    const mine = this.privateKeys.get(generation);
    return mine && sameBytes(mine.pub, kept.pub) ? { pub: kept.pub, privateKey: mine.privateKey } : { pub: kept.pub };
  }

  /** Whether this browser may have lost keys of this room: it holds no pair of generation 1. */
  async lostEarlier() {
    return (await this.pair(1)) === undefined;
  }

  /**
   * Keeps `pair` for this generation unless one is kept already (by this page or another tab);
   * returns the kept one. Only the pub is written; the private key stays in this page.
   */
  async keepPair(generation, pair) {
    const pub = await this.change((record) => {
      record.pairs[generation] ??= { pub: pair.pub };
      return record.pairs[generation].pub;
    });
    if (!sameBytes(pub, pair.pub)) return { pub };
    this.privateKeys.set(generation, { ...pair, release: this.hold(generation) });
    return pair;
  }

  /** Forgets this page's private key of a generation (its session is derived, or it is abandoned). */
  dropPrivateKey(generation) {
    this.privateKeys.get(generation)?.release();
    this.privateKeys.delete(generation);
    this.channel?.postMessage({ roomId: this.base.roomId });
  }

  lockName(generation) {
    return `privochat ${this.base.roomId} ${this.base.seat} ${generation}`;
  }

  /** Holds the lock of a generation's private key while this page has it; returns its release. */
  hold(generation) {
    if (!this.locks) return () => {};
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    this.locks.request(this.lockName(generation), () => held).catch(() => {});
    return release;
  }

  /**
   * True when no open page of this browser holds our private key of this generation: it went with
   * a reload, a closed tab or cleared storage. While another tab holds it, false, and the listeners
   * of onElsewhere are called once that tab lets it go (a session derived, or the tab closed).
   */
  async privateKeyLost(generation) {
    if (this.privateKeys.has(generation)) return false;
    if (!this.locks) return true;
    const free = await this.locks.request(this.lockName(generation), { ifAvailable: true }, (lock) => lock !== null);
    if (!free && !this.waiting.has(generation)) {
      this.waiting.add(generation);
      this.locks.request(this.lockName(generation), () => {
        this.waiting.delete(generation);
        for (const listener of this.listeners) listener();
      }).catch(() => {});
    }
    return free;
  }

  async session(epoch) {
    if (!this.cache.has(epoch)) {
      const record = await this.store.get(this.base.roomId);
      const found = record?.seat === this.base.seat ? record.sessions[epoch] : undefined;
      if (!found) return undefined;
      this.cache.set(epoch, { ...found, epoch });
    }
    return this.cache.get(epoch);
  }

  /**
   * keyChange: the keys changed under the person (this browser held an earlier session with the
   * other, or lost one): the session waits for them to accept it before anything is sent with it.
   */
  async keepSession({ epoch, generation, sendKey, recvKey, safety, keyChange = false }) {
    const kept = await this.change((record) => {
      record.sessions[epoch] ??= { generation, sendKey, recvKey, safety, nextSeq: 1, keyChange, accepted: false, verified: false };
      return record.sessions[epoch];
    });
    this.cache.set(epoch, { ...kept, epoch });
    this.dropPrivateKey(generation);
    return this.cache.get(epoch);
  }

  /** Whether this browser holds a session of this room older than `generation`. */
  async hasSessionBefore(generation) {
    const record = await this.store.get(this.base.roomId);
    if (record?.seat !== this.base.seat) return false;
    return Object.values(record.sessions).some((session) => session.generation < generation);
  }

  /** Marks a session, for every tab: {accepted: true} (the person accepted new keys), {verified: true} (they compared the code). */
  async markSession(epoch, marks) {
    const marked = await this.change((record) => {
      const session = record.sessions[epoch];
      if (session) Object.assign(session, marks);
      return session;
    });
    if (marked) this.cache.set(epoch, { ...marked, epoch });
    this.channel?.postMessage({ roomId: this.base.roomId });
    return this.cache.get(epoch);
  }

  /** Reads a session again (another tab may have marked it). */
  async refresh(epoch) {
    this.cache.delete(epoch);
    return this.session(epoch);
  }

  /** The next sequence number of our messages in this epoch, taken for good. */
  takeSeq(epoch) {
    return this.change((record) => {
      const session = record.sessions[epoch];
      if (!session) throw new Error("no session for this epoch");
      session.nextSeq += 1;
      return session.nextSeq - 1;
    });
  }
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
