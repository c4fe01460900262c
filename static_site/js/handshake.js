// The hello state machine of docs/protocol.md: commit first, reveal after the other's commit,
// generations, a new pair when our own private key is gone; every hello verified.
// Pure: storage and the network come in as functions, so it runs in Node's tests as well.
import * as P from "./protocol.js";

/**
 * One room's record in a keystore ({get, update} as keystore.js has them): key pairs per
 * generation, sessions per epoch, and sequence numbers taken atomically (two tabs never share one).
 */
export class RoomKeys {
  constructor(store, { roomId, seat, expiresAt }) {
    this.store = store;
    this.base = { roomId, seat, expiresAt };
    this.cache = new Map(); // epoch -> session, for this page
  }

  async change(edit) {
    return this.store.update(this.base.roomId, (found) => {
      const record = found?.seat === this.base.seat ? found : { ...this.base, pairs: {}, sessions: {} };
      record.expiresAt = this.base.expiresAt;
      const result = edit(record);
      return { record, result };
    });
  }

  /** Writes the record (for this seat, with its expiry) if it is not there yet. */
  save() {
    return this.change(() => {});
  }

  async pair(generation) {
    const record = await this.store.get(this.base.roomId);
    return record?.seat === this.base.seat ? record.pairs[generation] : undefined;
  }

  /** Whether this browser may have lost keys of this room: it holds no pair of generation 1. */
  async lostEarlier() {
    return (await this.pair(1)) === undefined;
  }

  /** Keeps `pair` for this generation unless one is kept already; returns the kept one. */
  keepPair(generation, pair) {
    return this.change((record) => {
      record.pairs[generation] ??= pair;
      return record.pairs[generation];
    });
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

  async keepSession({ epoch, generation, sendKey, recvKey, safety }) {
    const kept = await this.change((record) => {
      record.sessions[epoch] ??= { generation, sendKey, recvKey, safety, nextSeq: 1 };
      return record.sessions[epoch];
    });
    this.cache.set(epoch, { ...kept, epoch });
    return this.cache.get(epoch);
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

/**
 * hooks: publish(hello) -> the stored hello (POST /api/room/hello); onChange(session | null) when
 * the session to send with changes; onProblem({kind, seat, generation}) for a hello refused:
 * kind "unverifiable" (bad MAC, commit or shape), "conflict" (a second commit for one seat and
 * generation), "refused" (the key agreement failed). Nothing is ever sent to a refused hello.
 */
export class Handshake {
  constructor({ roomId, seat, helloKey, keys, publish, onChange = () => {}, onProblem = () => {} }) {
    Object.assign(this, { roomId, seat, helloKey, keys, publish, onChange, onProblem });
    this.other = seat === 1 ? 2 : 1;
    this.theirs = new Map(); // generation -> {commit, pub?} of the other seat, as first verified
    this.mine = null; // our seat's latest hello as the server holds it
    this.epochs = new Map(); // generation -> epoch of its session on this page
    this.current = null; // the session of the current generation, once there is one
    this.chain = Promise.resolve();
  }

  /** Takes hellos from the server (join, messages, a push) and moves the handshake on, one call at a time. */
  update(hellos = []) {
    const run = this.chain.then(() => this.step(hellos));
    this.chain = run.catch(() => {});
    return run;
  }

  /** The session of an epoch, looked up again once the updates under way are done. */
  async sessionFor(epoch) {
    return (await this.keys.session(epoch)) ?? (await this.chain, this.keys.session(epoch));
  }

  get safety() {
    return this.current?.safety ?? null;
  }

  async take(hello) {
    if (!(await P.verifyHello(this.helloKey, this.roomId, hello))) {
      this.onProblem({ kind: "unverifiable", seat: hello?.seat, generation: hello?.generation });
      return;
    }
    const { seat, generation, commit, pub } = hello;
    if (seat === this.seat) {
      const mine = this.mine;
      if (!mine || generation > mine.generation || (generation === mine.generation && pub && commit === mine.commit)) {
        this.mine = hello;
      }
      return;
    }
    const held = this.theirs.get(generation);
    if (!held) this.theirs.set(generation, { commit, pub });
    else if (held.commit !== commit) this.onProblem({ kind: "conflict", seat, generation });
    else held.pub ??= pub;
  }

  async step(hellos) {
    for (const hello of hellos) await this.take(hello);
    const theirG = Math.max(0, ...this.theirs.keys());
    const myG = this.mine?.generation ?? 0;
    const myPair = myG ? await this.keys.pair(myG) : undefined;
    const ours = Boolean(myPair) && (await this.commitOf(myG, myPair.pub)) === this.mine.commit;
    if (myPair && !ours) this.onProblem({ kind: "conflict", seat: this.seat, generation: myG });
    // The current generation is the highest published; ours starts past it when its key is gone.
    const target = myG && !ours ? Math.max(myG, theirG) + 1 : Math.max(myG, theirG, 1);
    const pair = (await this.keys.pair(target)) ?? (await this.keys.keepPair(target, await P.newKeyPair()));
    // Commit first; reveal only once the other's commit for this generation is here.
    const reveal = this.theirs.has(target);
    if (!(myG === target && ours && (this.mine.pub || !reveal))) {
      await this.take(await this.publish(await P.makeHello(this.helloKey, this.roomId, this.seat, target, pair.pub, { reveal })));
    }
    for (const [generation, { pub }] of this.theirs) if (pub) await this.derive(generation, P.fromBase64Url(pub));
    const session = this.epochs.has(target) ? await this.keys.session(this.epochs.get(target)) : null;
    if (session?.epoch !== this.current?.epoch) {
      this.current = session ?? null;
      this.onChange(this.current);
    }
  }

  async commitOf(generation, pub) {
    return (await P.makeHello(this.helloKey, this.roomId, this.seat, generation, pub)).commit;
  }

  /** Keeps the session of a generation whose private key we hold (derived once, then read back). */
  async derive(generation, theirPub) {
    if (this.epochs.has(generation)) return;
    const pair = await this.keys.pair(generation);
    if (!pair) return;
    const [pub1, pub2] = this.seat === 1 ? [pair.pub, theirPub] : [theirPub, pair.pub];
    const epoch = await P.epochOf(this.roomId, generation, pub1, pub2);
    if (!(await this.keys.session(epoch))) {
      let session;
      try {
        session = await P.deriveSession({
          privateKey: pair.privateKey, pub1, pub2, theirPub, roomId: this.roomId, mySeat: this.seat, generation,
        });
      } catch {
        this.onProblem({ kind: "refused", seat: this.other, generation });
        return;
      }
      await this.keys.keepSession({ ...session, generation });
    }
    this.epochs.set(generation, epoch);
  }
}
