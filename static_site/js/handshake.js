// The hello state machine of docs/protocol.md: commit first, reveal after the other's commit,
// generations, a new pair when our own private key is gone (it lives in one page only); every
// hello verified.
// Pure: storage and the network come in as functions, so it runs in Node's tests as well.
import * as P from "./protocol.js";

// Generations the other seat committed to and then left without revealing, after we revealed:
// each is one attempt at matching safety codes that no one sees fail. Past this many, the page
// stops following new generations and says so (kind "abandoned").
export const MAX_ABANDONED = 3;

/**
 * hooks: publish(hello) -> the stored hello (POST /api/room/hello); onChange(session | null) when
 * the session to send with changes; onProblem({kind, seat, generation}) for a hello refused:
 * kind "unverifiable" (bad MAC, commit or shape), "conflict" (a second commit for one seat and
 * generation), "refused" (the key agreement failed), "unfinished" (a generation the other committed
 * to and left unrevealed after we revealed), "abandoned" (MAX_ABANDONED of those: the page follows no more). Nothing is ever sent to a refused hello.
 */
export class Handshake {
  constructor({ roomId, seat, helloKey, keys, publish, onChange = () => {}, onProblem = () => {} }) {
    Object.assign(this, { roomId, seat, helloKey, keys, publish, onChange, onProblem });
    this.other = seat === 1 ? 2 : 1;
    this.theirs = new Map(); // generation -> {commit, pub?} of the other seat, as first verified
    this.mine = null; // our seat's latest hello as the server holds it
    this.epochs = new Map(); // generation -> epoch of its session on this page
    this.refused = new Set(); // generations whose key agreement failed: reported once, never retried
    this.lostSession = false; // our keys of a generation the other had answered are gone (Leave, cleared storage)
    this.abandoned = new Set(); // generations the other committed to, we revealed for, and they left
    this.current = null; // the session of the current generation, once there is one
    this.chain = Promise.resolve();
  }

  /** Takes hellos from the server (join, messages, a push) and moves the handshake on, one call at a time. */
  update(hellos = []) {
    const run = this.chain.then(() => this.step(hellos));
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Marks the current session for every tab ({accepted: true} after a key change, {verified: true}
   * once the codes were compared) and says so through onChange.
   */
  mark(marks) {
    const run = this.chain.then(async () => {
      if (!this.current) return;
      this.current = await this.keys.markSession(this.current.epoch, marks);
      this.onChange(this.current);
    });
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
    await this.deriveAll();
    const theirG = Math.max(0, ...this.theirs.keys());
    const myG = this.mine?.generation ?? 0;
    const myPair = myG ? await this.keys.pair(myG) : undefined;
    const ours = Boolean(myPair) && (await this.commitOf(myG, myPair.pub)) === this.mine.commit;
    if (myPair && !ours) this.onProblem({ kind: "conflict", seat: this.seat, generation: myG });
    // Our private key rests nowhere: a generation we published but derived no session of is
    // dead once no open page of this browser holds its key (a reload, a closed tab).
    const lost = ours && !myPair.privateKey && !this.epochs.has(myG) && (await this.keys.privateKeyLost(myG))
      && (await this.deriveAll(), !this.epochs.has(myG)); // a tab may have derived it meanwhile
    // The current generation is the highest published; ours moves past our own when its key is gone.
    const target = myG && (!ours || lost) ? Math.max(myG + 1, theirG) : Math.max(myG, theirG, 1);
    // Keys of a generation the other had revealed for: a session existed, and this browser lost it.
    if (myG && !ours && this.theirs.get(myG)?.pub) this.lostSession = true;
    if (target > myG && myG && ours && !lost && this.mine.pub && !this.theirs.get(myG)?.pub && this.theirs.has(myG)) {
      this.abandoned.add(myG);
      this.keys.dropPrivateKey(myG); // an abandoned generation's private key is of no more use
      // Each one is shown, not only the last: the person sees an attempt as it happens.
      if (this.abandoned.size < MAX_ABANDONED) this.onProblem({ kind: "unfinished", seat: this.other, generation: myG });
    }
    if (this.abandoned.size >= MAX_ABANDONED) {
      this.onProblem({ kind: "abandoned", seat: this.other, generation: target });
      return;
    }
    const pair = (await this.keys.pair(target)) ?? (await this.keys.keepPair(target, await P.newKeyPair()));
    // Commit first; reveal only once the other's commit for this generation is here.
    const reveal = this.theirs.has(target);
    if (!(myG === target && ours && (this.mine.pub || !reveal))) {
      await this.take(await this.publish(await P.makeHello(this.helloKey, this.roomId, this.seat, target, pair.pub, { reveal })));
    }
    await this.deriveAll();
    const session = this.epochs.has(target) ? await this.keys.refresh(this.epochs.get(target)) : null;
    if (session?.epoch !== this.current?.epoch || session?.accepted !== this.current?.accepted || session?.verified !== this.current?.verified) {
      this.current = session ?? null;
      this.onChange(this.current);
    }
  }

  async deriveAll() {
    for (const [generation, { pub }] of this.theirs) if (pub) await this.derive(generation, P.fromBase64Url(pub));
  }

  async commitOf(generation, pub) {
    return (await P.makeHello(this.helloKey, this.roomId, this.seat, generation, pub)).commit;
  }

  /**
   * Keeps the session of a generation: read back when this browser derived it already (a reload,
   * another tab), else derived with our private key, if this page holds it.
   */
  async derive(generation, theirPub) {
    if (this.epochs.has(generation) || this.refused.has(generation)) return;
    const pair = await this.keys.pair(generation);
    if (!pair) return;
    const [pub1, pub2] = this.seat === 1 ? [pair.pub, theirPub] : [theirPub, pair.pub];
    const epoch = await P.epochOf(this.roomId, generation, pub1, pub2);
    if (!(await this.keys.session(epoch))) {
      if (!pair.privateKey) return;
      let session;
      try {
        session = await P.deriveSession({
          privateKey: pair.privateKey, pub1, pub2, theirPub, roomId: this.roomId, mySeat: this.seat, generation,
        });
      } catch {
        this.refused.add(generation);
        this.onProblem({ kind: "refused", seat: this.other, generation });
        return;
      }
      // New keys after earlier ones (a session this page or browser held, or one it lost) are a
      // key change the person must see: nothing is sent with them until they accept them.
      const keyChange = this.lostSession || (this.current?.generation ?? generation) < generation
        || (await this.keys.hasSessionBefore(generation));
      await this.keys.keepSession({ ...session, generation, keyChange });
    }
    this.epochs.set(generation, epoch);
  }
}
