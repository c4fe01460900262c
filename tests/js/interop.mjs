// The browser's protocol module (static_site/js/protocol.js) driven by
// tests/functions/test_protocol_interop.py: one JSON request per line on stdin,
// one JSON answer per line on stdout ({"ok": true, "result": ...} or
// {"ok": false, "error": "..."}). Private keys stay in this process; only
// public values, wire texts and verdicts leave it.
import { createInterface } from "node:readline";
import * as P from "../../static_site/js/protocol.js";

const state = { link: null, roomId: null, helloKey: null, seat: null, pairs: new Map(), session: null };

// The module may hand back bytes or base64url text; the test speaks text.
const text = (value) => (typeof value === "string" ? value : P.toBase64Url(new Uint8Array(value)));
const likeOwnPub = (pub, own) => (typeof own === "string" ? pub : P.fromBase64Url(pub));

const ops = {
  exports: async () => ({ names: Object.keys(P).sort(), buckets: [...P.BUCKETS] }),
  newLinkKey: async () => text(await P.newLinkKey()),
  credentials: async ({ link }) => {
    const credentials = await P.joinCredentials(await P.parseLinkKey(link));
    return { proof: text(credentials.proof), verifier: text(credentials.verifier) };
  },
  parseLinkKey: async ({ link }) => {
    const key = await P.parseLinkKey(link);
    return key === null || key === undefined ? null : text(key);
  },
  room: async ({ link, roomId, seat }) => {
    Object.assign(state, { roomId, seat, helloKey: await P.helloKey(await P.parseLinkKey(link), roomId) });
    state.pairs.clear();
    state.session = null;
    return null;
  },
  pair: async ({ generation }) => {
    const pair = await P.newKeyPair();
    state.pairs.set(generation, pair);
    return { pub: text(pair.pub) };
  },
  makeHello: async ({ generation, reveal }) => {
    const pub = state.pairs.get(generation).pub;
    return P.makeHello(state.helloKey, state.roomId, state.seat, generation, pub, { reveal });
  },
  verifyHello: async ({ hello }) => P.verifyHello(state.helloKey, state.roomId, hello),
  derive: async ({ generation, theirPub }) => {
    const pair = state.pairs.get(generation);
    const other = likeOwnPub(theirPub, pair.pub);
    const [pub1, pub2] = state.seat === 1 ? [pair.pub, other] : [other, pair.pub];
    state.session = await P.deriveSession({
      privateKey: pair.privateKey,
      pub1,
      pub2,
      theirPub: other,
      roomId: state.roomId,
      mySeat: state.seat,
      generation,
    });
    return { epoch: state.session.epoch, safety: state.session.safety };
  },
  seal: async ({ name, text: body, seq, clock = 0, ack = 0, read }) =>
    P.seal(state.session.sendKey, state.roomId, state.session.epoch, state.seat, { name, text: body, seq, clock, ack, read }),
  sealReceipt: async ({ name, delivered, sent, clock, read }) =>
    P.sealReceipt(state.session.sendKey, state.roomId, state.session.epoch, state.seat, { name, delivered, sent, clock, read }),
  openReceipt: async ({ wire, senderSeat }) => {
    const parsed = P.parseWire(wire);
    if (!parsed) return null;
    return (await P.openReceipt(state.session.recvKey, state.roomId, parsed.epoch, senderSeat, parsed.sealed)) ?? null;
  },
  open: async ({ wire, senderSeat, roomId, key }) => {
    const parsed = await P.parseWire(wire);
    if (parsed === null || parsed === undefined) return { parsed: false, plain: null };
    const cryptoKey = key === "send" ? state.session.sendKey : state.session.recvKey;
    const plain = await P.openSealed(cryptoKey, roomId ?? state.roomId, parsed.epoch, senderSeat, parsed.sealed);
    return { parsed: true, epoch: parsed.epoch, plain: plain ?? null };
  },
  pad: async ({ data }) => text(await P.pad(P.fromBase64Url(data))),
  unpad: async ({ data }) => {
    const unpadded = await P.unpad(P.fromBase64Url(data));
    return unpadded === null || unpadded === undefined ? null : text(unpadded);
  },
  enc: async ({ parts }) => text(await P.enc(...parts.map((part) => P.fromBase64Url(part)))),
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const { op, ...args } = JSON.parse(line);
  let answer;
  try {
    answer = { ok: true, result: await ops[op](args) };
  } catch (error) {
    answer = { ok: false, error: `${op}: ${error?.stack ?? error}` };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
