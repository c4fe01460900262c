// protocol.js: byte-exact against fixed vectors (computed once with Python's `cryptography`
// straight from docs/protocol.md), round trips, and every tampering it must refuse.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  BUCKETS, NAME_LIMIT, TEXT_LIMIT, deriveSession, enc, epochOf, fromBase64Url, helloKey, joinCredentials,
  makeHello, newKeyPair, newLinkKey, openReceipt, openSealed, pad, parseLinkKey, parseWire, seal, sealReceipt, toBase64Url,
  unpad, verifyHello,
} from "../../static_site/js/protocol.js";

const V = {
  L: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
  rid: "AbCdEfGhIjKlMnOpQrStU",
  proof: "atLu5v7__BaouMInwFnlXZB1Bk9OfphbR4eV0G1aTdU",
  verifier: "NgAowZARS65r759l5Zd16F3hLUGaRk4ASJ6tA8dgwOY",
  priv1: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
  priv2: "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI",
  pub1: "pOCSkrZRwni5dyxWn1-puxPZBrRqtoyd-dwrRAn4ogk",
  pub2: "zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk",
  g: 3,
  commit: "J926behMccXK4dyMHBpYY4a0_1p5XYY--o5o13Zq3xk",
  mac: "vu3XIjIgQzAG3T3niJtRF-cPa5ZR5Ln2S8T0TA-H_O4",
  epoch: "oRbbUkG6LYE",
  safety: "84568 80335 29039",
  wireFrom2: "3.oRbbUkG6LYE.AAAAAAAAAAAAAAAAzg8xt3wnTA2b-GRFzdp3ow7iOGmsS83DfklXqQtHADJionlZauKug3p6WaTCEUx7WSzM1P_tj0yS3wv71LOxfYpS-04J8XvGpBc3nFL3gm-HvhSuPVdZPl1iKaAmZ0BPvqcr7znk7EmQkXTiRq0sRCKpXsRBaifZzu9UeBsKW5Lx0p8b7QLf24FGuH7v613aCy-2VZNw5JCr8pQzV41aNQQwQWNH4Yx1rjTWS76ZSRVsWpsrKxiDzkoBi3a4CQw3hkOGoezvS-1ch5zg-c0xsGhpHmqLC0ZYDQTJzppdVJujQ29Oa2-lj7uQHpKXwYWgGx00Ea7cNODB4QrKc1ZHNLk8qKZOL1pwyFFERVgoxEU",
  receiptFrom2: "3.oRbbUkG6LYE.AQIDBAUGBwgJCgsMiw3PxnBnpn50HVOjVl6jdW6keLY6owMJrk1KKDBxja4k-_erE3Nv_38-8UFIRjj9WRdRGRUZXGvniHF-CNl7u_P76jRceB3Z8--2e71B2-u5Bney5ttFe7lUeJvPGbE4OEwjqPzkR4bh1IdIDMeAqs9a9M_NDSU0uE5ccY_HjG4EtrB91zt3jPUMfGPl6A3wfbyzTjizuLMhd-46L1iIJ7KPqKRYoKUU32zHBK11VmEOW8cVoarJeQksPS0yxyMujteVkusgebvbxD6kAwvq9viAxuEA9NzjnLbuwmxTStRk_TzNa__GuCRzuDGqNZjyzWh_BBAiSeGvn-P1B4bCk3EgucZEfBL2kVp7OWJHax0",
};

const importPrivate = (d, x) => crypto.subtle.importKey(
  "jwk", { kty: "OKP", crv: "X25519", d, x }, { name: "X25519" }, false, ["deriveBits"]);

const ROOM = "roomroomroomroomroom1";
const OTHER_ROOM = "roomroomroomroomroom2";

/** Both sides of one generation: each side's session and hello key. */
async function twoSides({ roomId = ROOM, generation = 1 } = {}) {
  const L = parseLinkKey(newLinkKey());
  const a = await newKeyPair();
  const b = await newKeyPair();
  const common = { pub1: a.pub, pub2: b.pub, roomId, generation };
  return {
    L,
    one: await deriveSession({ ...common, privateKey: a.privateKey, theirPub: b.pub, mySeat: 1 }),
    two: await deriveSession({ ...common, privateKey: b.privateKey, theirPub: a.pub, mySeat: 2 }),
    pairs: [a, b],
  };
}

const MSG = { name: "Alice", text: "the door code is 4471", seq: 1, clock: 1733400000123, ack: 0 };
const msg = (fields) => ({ ...MSG, ...fields });

describe("encodings", () => {
  test("base64url round trips every length and refuses anything else", () => {
    for (let n = 0; n < 40; n += 1) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      const text = toBase64Url(bytes);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
      assert.deepEqual(fromBase64Url(text), bytes);
    }
    for (const bad of ["a", "ab=", "a+b/", "ab cd", "AB==", "AAB", "AAAAB", 12, null]) {
      assert.throws(() => fromBase64Url(bad), `${bad} is refused`);
    }
  });

  test("enc prefixes each part with its 2-byte big-endian length", () => {
    assert.deepEqual(enc(new Uint8Array([7, 8]), new Uint8Array(0), new Uint8Array(300).fill(1)).subarray(0, 8),
      new Uint8Array([0, 2, 7, 8, 0, 0, 1, 44]));
    assert.equal(enc(new Uint8Array(300)).length, 302);
    assert.throws(() => enc(new Uint8Array(0x10000)));
    assert.throws(() => enc("text"));
  });

  test("link keys are 32 random bytes; anything else is no key", () => {
    const key = newLinkKey();
    assert.equal(key.length, 43);
    assert.notEqual(key, newLinkKey());
    assert.equal(parseLinkKey(key).length, 32);
    for (const bad of ["", "not-a-key", key.slice(0, 42), `${key}A`, `${key.slice(0, 42)}=`, "A".repeat(44)]) {
      assert.equal(parseLinkKey(bad), null, bad);
    }
  });
});

describe("known answers (docs/protocol.md, computed independently)", () => {
  test("join proof and verifier", async () => {
    assert.deepEqual(await joinCredentials(fromBase64Url(V.L)), { proof: V.proof, verifier: V.verifier });
  });

  test("hello commit and MAC", async () => {
    const H = await helloKey(fromBase64Url(V.L), V.rid);
    const hello = await makeHello(H, V.rid, 1, V.g, fromBase64Url(V.pub1), { reveal: true });
    assert.deepEqual(hello, { seat: 1, generation: V.g, commit: V.commit, mac: V.mac, pub: V.pub1 });
    assert.deepEqual(await makeHello(H, V.rid, 1, V.g, fromBase64Url(V.pub1)), { seat: 1, generation: V.g, commit: V.commit, mac: V.mac });
    assert.equal(await verifyHello(H, V.rid, hello), true);
  });

  test("epoch, safety code, and a message sealed by seat 2", async () => {
    const common = { pub1: fromBase64Url(V.pub1), pub2: fromBase64Url(V.pub2), roomId: V.rid, generation: V.g };
    const one = await deriveSession({ ...common, privateKey: await importPrivate(V.priv1, V.pub1), theirPub: common.pub2, mySeat: 1 });
    const two = await deriveSession({ ...common, privateKey: await importPrivate(V.priv2, V.pub2), theirPub: common.pub1, mySeat: 2 });
    assert.equal(one.epoch, V.epoch);
    assert.equal(two.epoch, V.epoch);
    assert.equal(await epochOf(V.rid, V.g, common.pub1, common.pub2), V.epoch);
    assert.equal(one.safety, V.safety);
    assert.equal(two.safety, V.safety);
    const { epoch, sealed } = parseWire(V.wireFrom2);
    assert.equal(epoch, V.epoch);
    const said = { name: "Zoë", text: "hi ✓", seq: 7, clock: 1733400000123, ack: 4, read: 3 };
    assert.deepEqual(await openSealed(one.recvKey, V.rid, epoch, 2, sealed), said);
    assert.deepEqual(await openSealed(two.sendKey, V.rid, epoch, 2, sealed), said);
    const receipt = parseWire(V.receiptFrom2);
    assert.deepEqual(await openReceipt(one.recvKey, V.rid, receipt.epoch, 2, receipt.sealed),
      { name: "Zoë", delivered: 5, sent: 7, clock: 1733400000456, read: 2 });
    assert.equal(await openSealed(one.recvKey, V.rid, receipt.epoch, 2, receipt.sealed), null, "a receipt is no message");
  });
});

describe("hellos", () => {
  test("a fresh hello verifies, committed or revealed", async () => {
    const H = await helloKey(parseLinkKey(newLinkKey()), ROOM);
    const { pub } = await newKeyPair();
    for (const reveal of [false, true]) {
      const hello = await makeHello(H, ROOM, 2, 5, pub, { reveal });
      assert.equal("pub" in hello, reveal);
      assert.equal(await verifyHello(H, ROOM, hello), true);
    }
  });

  test("a hello fails under another link, room, seat or generation, or with a swapped pub or commit", async () => {
    const L = parseLinkKey(newLinkKey());
    const H = await helloKey(L, ROOM);
    const { pub } = await newKeyPair();
    const other = await newKeyPair();
    const hello = await makeHello(H, ROOM, 1, 1, pub, { reveal: true });
    const otherHello = await makeHello(H, ROOM, 1, 1, other.pub, { reveal: true });
    assert.equal(await verifyHello(await helloKey(parseLinkKey(newLinkKey()), ROOM), ROOM, hello), false, "other link");
    assert.equal(await verifyHello(await helloKey(L, OTHER_ROOM), OTHER_ROOM, hello), false, "other room");
    assert.equal(await verifyHello(H, ROOM, { ...hello, seat: 2 }), false, "other seat");
    assert.equal(await verifyHello(H, ROOM, { ...hello, generation: 2 }), false, "other generation");
    assert.equal(await verifyHello(H, ROOM, { ...hello, pub: otherHello.pub }), false, "pub does not match commit");
    assert.equal(await verifyHello(H, ROOM, { ...hello, commit: otherHello.commit }), false, "commit not under the mac");
    assert.equal(await verifyHello(H, ROOM, { ...hello, mac: otherHello.mac }), false, "mac of another commit");
  });

  test("a malformed hello is refused, never thrown on", async () => {
    const H = await helloKey(parseLinkKey(newLinkKey()), ROOM);
    const { pub } = await newKeyPair();
    const hello = await makeHello(H, ROOM, 1, 1, pub, { reveal: true });
    const bad = [
      null, "hello", [], {}, { ...hello, seat: 3 }, { ...hello, seat: "1" }, { ...hello, generation: 0 },
      { ...hello, generation: 1.5 }, { ...hello, generation: "1" }, { ...hello, commit: undefined },
      { ...hello, mac: hello.mac.slice(1) }, { ...hello, pub: "" }, { ...hello, pub: 7 },
      { ...hello, pub: `${hello.pub}AA` }, { ...hello, commit: "!".repeat(43) },
    ];
    for (const candidate of bad) assert.equal(await verifyHello(H, ROOM, candidate), false, JSON.stringify(candidate));
    assert.equal(await verifyHello(H, ROOM, { ...hello, pub: null }), true, "a null pub is a hello not yet revealed");
  });
});

describe("sessions", () => {
  test("both sides derive the same epoch and safety code; directions differ", async () => {
    const { one, two } = await twoSides();
    assert.equal(one.epoch, two.epoch);
    assert.match(one.epoch, /^[A-Za-z0-9_-]{11}$/);
    assert.equal(one.safety, two.safety);
    assert.match(one.safety, /^\d{5} \d{5} \d{5}$/);
    for (const key of [one.sendKey, one.recvKey]) assert.equal(key.extractable, false);
    const wire = await seal(one.sendKey, ROOM, one.epoch, 1, MSG);
    const { sealed } = parseWire(wire);
    assert.equal(await openSealed(one.recvKey, ROOM, one.epoch, 1, sealed), null, "1->2 is not 2->1");
  });

  test("another generation or room gives another epoch and code", async () => {
    const a = await newKeyPair();
    const b = await newKeyPair();
    const session = (roomId, generation) =>
      deriveSession({ privateKey: a.privateKey, pub1: a.pub, pub2: b.pub, theirPub: b.pub, roomId, mySeat: 1, generation });
    const base = await session(ROOM, 1);
    assert.notEqual((await session(ROOM, 2)).epoch, base.epoch);
    assert.notEqual((await session(OTHER_ROOM, 1)).epoch, base.epoch);
  });

  test("an all-zero shared secret (a low-order public key) is refused", async () => {
    const a = await newKeyPair();
    for (const lowOrder of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
      await assert.rejects(deriveSession({
        privateKey: a.privateKey, pub1: a.pub, pub2: lowOrder, theirPub: lowOrder, roomId: ROOM, mySeat: 1, generation: 1,
      }), /refused/);
    }
  });

  test("an engine that hands back an all-zero secret instead of refusing is refused anyway", async (t) => {
    // Every engine here refuses a low-order key itself; this is what protocol.js must do where one does not.
    const a = await newKeyPair();
    const b = await newKeyPair();
    t.mock.method(globalThis.crypto.subtle, "deriveBits", async () => new ArrayBuffer(32));
    await assert.rejects(deriveSession({
      privateKey: a.privateKey, pub1: a.pub, pub2: b.pub, theirPub: b.pub, roomId: ROOM, mySeat: 1, generation: 1,
    }), /refused/);
  });

  test("every seal draws a fresh random IV", async () => {
    const { one } = await twoSides();
    const ivs = new Set();
    for (let i = 0; i < 200; i += 1) {
      const wire = await seal(one.sendKey, ROOM, one.epoch, 1, msg({ name: "A", text: "same text" }));
      ivs.add(toBase64Url(parseWire(wire).sealed.subarray(0, 12)));
    }
    assert.equal(ivs.size, 200, "no IV repeats under one key");
  });

  test("key pairs: a non-extractable private key and 32 public bytes", async () => {
    const { privateKey, pub } = await newKeyPair();
    assert.equal(privateKey.extractable, false);
    assert.equal(pub.length, 32);
    await assert.rejects(crypto.subtle.exportKey("pkcs8", privateKey));
  });
});

describe("padding", () => {
  test("pads to the smallest bucket that holds the bytes, and back", () => {
    for (const [length, bucket] of [[1, 256], [256, 256], [257, 512], [1000, 1024], [4097, 8192], [8192, 8192]]) {
      const bytes = new Uint8Array(length).fill(0x61);
      const padded = pad(bytes);
      assert.equal(padded.length, bucket, `${length}`);
      assert.deepEqual(unpad(padded), bytes);
    }
    assert.throws(() => pad(new Uint8Array(8193)));
  });

  test("refuses lengths that are not buckets, empty content, and content a smaller bucket holds", () => {
    assert.equal(unpad(new Uint8Array(255).fill(1)), null);
    assert.equal(unpad(new Uint8Array(300).fill(1)), null);
    assert.equal(unpad(new Uint8Array(256)), null);
    const tooMuchPadding = new Uint8Array(512);
    tooMuchPadding[0] = 0x7b;
    assert.equal(unpad(tooMuchPadding), null);
  });
});

describe("messages", () => {
  test("round trip: what seat 1 seals, seat 2 opens", async () => {
    const { one, two } = await twoSides();
    const wire = await seal(one.sendKey, ROOM, one.epoch, 1, MSG);
    assert.ok(wire.startsWith(`3.${one.epoch}.`));
    const { epoch, sealed } = parseWire(wire);
    assert.equal(epoch, one.epoch);
    assert.deepEqual(await openSealed(two.recvKey, ROOM, epoch, 1, sealed), MSG);
    assert.deepEqual(await openSealed(one.sendKey, ROOM, epoch, 1, sealed), MSG, "the author reads its own history");
  });

  test("every ciphertext has a bucket's length: one of six sizes, whatever the text", async () => {
    const { one } = await twoSides();
    const sizes = new Set();
    for (const text of ["a", "ab", "x".repeat(150), "x".repeat(300), "é".repeat(TEXT_LIMIT), "\u0001".repeat(TEXT_LIMIT), "😀".repeat(TEXT_LIMIT)]) {
      const wire = await seal(one.sendKey, ROOM, one.epoch, 1, msg({ name: "n".repeat(NAME_LIMIT), text, seq: 2 ** 53 - 1, clock: 2 ** 53 - 1, ack: 2 ** 53 - 1, read: 2 ** 53 - 1 }));
      const { sealed } = parseWire(wire);
      const bucket = sealed.length - 12 - 16;
      assert.ok(BUCKETS.includes(bucket), `${bucket}`);
      assert.ok(wire.length <= 10974, `${wire.length}`);
      sizes.add(bucket);
    }
    assert.ok(sizes.size <= 4);
    const short = parseWire(await seal(one.sendKey, ROOM, one.epoch, 1, msg({ name: "A", text: "a" }))).sealed.length;
    const longer = parseWire(await seal(one.sendKey, ROOM, one.epoch, 1, msg({ name: "A", text: "a".repeat(200) }))).sealed.length;
    assert.equal(short, longer, "lengths within a bucket are hidden");
  });

  test("the AAD binds room, epoch and sender seat; the key binds the direction", async () => {
    const { one, two } = await twoSides();
    const wire = await seal(one.sendKey, ROOM, one.epoch, 1, MSG);
    const { sealed } = parseWire(wire);
    const otherEpoch = toBase64Url(new Uint8Array(8).fill(9));
    assert.equal(await openSealed(two.recvKey, OTHER_ROOM, one.epoch, 1, sealed), null, "other room");
    assert.equal(await openSealed(two.recvKey, ROOM, otherEpoch, 1, sealed), null, "other epoch");
    assert.equal(await openSealed(two.recvKey, ROOM, one.epoch, 2, sealed), null, "other seat");
    assert.equal(await openSealed(two.sendKey, ROOM, one.epoch, 1, sealed), null, "other direction");
    const elsewhere = await twoSides();
    assert.equal(await openSealed(elsewhere.two.recvKey, ROOM, one.epoch, 1, sealed), null, "other session");
  });

  test("any flipped bit of iv, ciphertext or tag is refused", async () => {
    const { one, two } = await twoSides();
    const { epoch, sealed } = parseWire(await seal(one.sendKey, ROOM, one.epoch, 1, MSG));
    for (const at of [0, 11, 12, 100, sealed.length - 17, sealed.length - 1]) {
      const bent = sealed.slice();
      bent[at] ^= 1;
      assert.equal(await openSealed(two.recvKey, ROOM, epoch, 1, bent), null, `byte ${at}`);
    }
    assert.equal(await openSealed(two.recvKey, ROOM, epoch, 1, sealed.subarray(0, sealed.length - 1)), null, "truncated");
  });

  test("content that decrypts but is not a valid message or receipt is refused", async () => {
    const { one, two } = await twoSides();
    const sealRaw = async (padded, label = "privochat/3 message") => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const additionalData = enc(...[label, ROOM, one.epoch, "1"].map((s) => new TextEncoder().encode(s)));
      const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, one.sendKey, padded));
      return new Uint8Array([...iv, ...ct]);
    };
    const json = (value) => pad(new TextEncoder().encode(JSON.stringify(value)));
    const good = { n: "A", t: "b", s: 1, c: 5, a: 0 };
    const cases = {
      "not padded": new TextEncoder().encode(JSON.stringify(good)),
      "not JSON": pad(new TextEncoder().encode("hello")),
      "not UTF-8": pad(new Uint8Array([0x22, 0xff, 0x22])),
      "an array": json(["A", "b", 1, 5, 0]),
      "no name": json({ ...good, n: undefined }),
      "no clock": json({ ...good, c: undefined }),
      "no ack": json({ ...good, a: undefined }),
      "an unknown field": json({ ...good, x: 1 }),
      "empty text": json({ ...good, t: "" }),
      "text too long": json({ ...good, t: "x".repeat(TEXT_LIMIT + 1) }),
      "name too long": json({ ...good, n: "x".repeat(NAME_LIMIT + 1) }),
      "seq zero": json({ ...good, s: 0 }),
      "seq not an integer": json({ ...good, s: 1.5 }),
      "seq a string": json({ ...good, s: "1" }),
      "a negative clock": json({ ...good, c: -1 }),
      "read past ack": json({ ...good, a: 2, r: 3 }),
      "read null": json({ ...good, r: null }),
      "v2's message": json({ n: "A", t: "b", s: 1 }),
    };
    for (const [label, padded] of Object.entries(cases)) {
      assert.equal(await openSealed(two.recvKey, ROOM, one.epoch, 1, await sealRaw(padded)), null, label);
    }
    assert.deepEqual(await openSealed(two.recvKey, ROOM, one.epoch, 1, await sealRaw(json({ ...good, r: 0 }))),
      { name: "A", text: "b", seq: 1, clock: 5, ack: 0, read: 0 }, "the positive control opens");
    assert.equal(await openSealed(two.recvKey, ROOM, one.epoch, 1, await sealRaw(json(good), "privochat/2")), null,
      "v2's label");
    const receipt = { n: "A", d: 2, h: 1, c: 5 };
    const receipts = {
      "a message's fields": json(good), "read past delivered": json({ ...receipt, r: 3 }),
      "an unknown field": json({ ...receipt, x: 1 }), "no sent": json({ ...receipt, h: undefined }),
    };
    for (const [label, padded] of Object.entries(receipts)) {
      assert.equal(await openReceipt(two.recvKey, ROOM, one.epoch, 1, await sealRaw(padded, "privochat/3 receipt")), null, label);
    }
    assert.deepEqual(await openReceipt(two.recvKey, ROOM, one.epoch, 1, await sealRaw(json(receipt), "privochat/3 receipt")),
      { name: "A", delivered: 2, sent: 1, clock: 5 }, "the positive control opens");
  });

  test("a receipt opens only as a receipt, of its room, epoch, seat and direction", async () => {
    const { one, two } = await twoSides();
    const wire = await sealReceipt(one.sendKey, ROOM, one.epoch, 1, { name: "A", delivered: 3, sent: 2, clock: 9, read: 1 });
    const { epoch, sealed } = parseWire(wire);
    assert.deepEqual(await openReceipt(two.recvKey, ROOM, epoch, 1, sealed), { name: "A", delivered: 3, sent: 2, clock: 9, read: 1 });
    assert.equal(await openSealed(two.recvKey, ROOM, epoch, 1, sealed), null, "not a message");
    assert.equal(await openReceipt(two.recvKey, OTHER_ROOM, epoch, 1, sealed), null, "other room");
    assert.equal(await openReceipt(two.recvKey, ROOM, epoch, 2, sealed), null, "other seat");
    assert.equal(await openReceipt(two.sendKey, ROOM, epoch, 1, sealed), null, "other direction");
    const message = parseWire(await seal(one.sendKey, ROOM, one.epoch, 1, MSG));
    assert.equal(await openReceipt(two.recvKey, ROOM, epoch, 1, message.sealed), null, "a message is no receipt");
    await assert.rejects(sealReceipt(one.sendKey, ROOM, one.epoch, 1, { name: "A", delivered: 1, sent: 0, clock: 9, read: 2 }));
  });

  test("seal refuses what no receiver would accept", async () => {
    const { one } = await twoSides();
    for (const bad of [{ ...MSG, name: "" }, { ...MSG, text: "" }, { ...MSG, text: "x".repeat(TEXT_LIMIT + 1) },
      { ...MSG, name: "x".repeat(NAME_LIMIT + 1) }, { ...MSG, seq: 0 }, { ...MSG, seq: 2.5 }, { ...MSG, clock: undefined },
      { ...MSG, ack: -1 }, { ...MSG, ack: 1, read: 2 }]) {
      await assert.rejects(seal(one.sendKey, ROOM, one.epoch, 1, bad), JSON.stringify(bad));
    }
  });

  test("parseWire takes only <version>.<11-char epoch>.<base64url>, and says the version", async () => {
    const { one } = await twoSides();
    const wire = await seal(one.sendKey, ROOM, one.epoch, 1, MSG);
    assert.equal(parseWire(wire).version, 3);
    const body = wire.split(".")[2];
    assert.equal(parseWire(`4.${one.epoch}.${body}`).version, 4, "a newer version is told apart");
    for (const bad of ["", "hello", `0.${one.epoch}.${body}`, `03.${one.epoch}.${body}`, `3.${one.epoch}${body}`, `3.${one.epoch.slice(1)}.${body}`,
      `3.${one.epoch}.${body}=`, `3.${one.epoch}.${body}!`, `3.${one.epoch}.AAAA`, ` ${wire}`, `3.${one.epoch}.${body}.x`, null, 7]) {
      assert.equal(parseWire(bad), null, String(bad));
    }
  });
});

test("a key pair is made again when the engine fails to make one (WebKit, now and then)", async (t) => {
  const subtle = globalThis.crypto.subtle;
  let failures = 2;
  t.mock.method(subtle, "generateKey", async function generateKey(...args) {
    if (failures > 0) {
      failures -= 1;
      throw new DOMException("The operation failed for an operation-specific reason", "OperationError");
    }
    return SubtleCrypto.prototype.generateKey.call(this, ...args);
  });
  const pair = await newKeyPair();
  assert.equal(pair.pub.length, 32);
  failures = 5;
  await assert.rejects(newKeyPair(), { name: "OperationError" });
});
