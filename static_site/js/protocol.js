// PrivoChat end-to-end protocol v3, byte for byte as docs/protocol.md describes it: the
// handshake of v2 (its labels say "privochat/2"), and v3's messages and receipts.
// Pure: no DOM, no network, no storage; WebCrypto only (Chromium, Firefox, WebKit and Node 20 alike).

const subtle = globalThis.crypto.subtle;
const utf8 = (text) => new TextEncoder().encode(text);
const num = (n) => utf8(String(n));
const V = "privochat/2"; // the handshake's labels, unchanged since v2
const M = "privochat/3"; // the labels of messages and receipts
/** The version a wire text starts with ("3.<epoch>.<sealed>"). */
export const WIRE_VERSION = 3;

export const BUCKETS = [256, 512, 1024, 2048, 4096, 8192];
export const TEXT_LIMIT = 1000;
export const NAME_LIMIT = 100;
const IV_BYTES = 12;
const TAG_BYTES = 16;

// ---------- encodings ----------

export function toBase64Url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Bytes of a base64url text without padding; throws unless it is exactly that (canonical form). */
export function fromBase64Url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new Error("not base64url");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (text.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (toBase64Url(bytes) !== text) throw new Error("not canonical base64url");
  return bytes;
}

/** Each part as a 2-byte big-endian length, then its bytes. */
export function enc(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 2 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    if (!(part instanceof Uint8Array) || part.length > 0xffff) throw new Error("enc: bad part");
    out[at] = part.length >> 8;
    out[at + 1] = part.length & 0xff;
    out.set(part, at + 2);
    at += 2 + part.length;
  }
  return out;
}

const bytesOf = (buffer) => new Uint8Array(buffer);
const sha256 = async (data) => bytesOf(await subtle.digest("SHA-256", data));

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function hkdf(ikm, salt, info) {
  const key = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return bytesOf(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: utf8(info) }, key, 256));
}

// ---------- the link key ----------

export function newLinkKey() {
  return toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(32)));
}

/** L from a link fragment, or null when it is not base64url of 32 bytes. */
export function parseLinkKey(text) {
  try {
    const bytes = fromBase64Url(text);
    return bytes.length === 32 ? bytes : null;
  } catch {
    return null;
  }
}

/** The join proof J and its verifier SHA256(J), both base64url. */
export async function joinCredentials(L) {
  const J = await hkdf(L, new Uint8Array(0), `${V} join`);
  return { proof: toBase64Url(J), verifier: toBase64Url(await sha256(J)) };
}

/** H, the hello MAC key of this room (non-extractable). */
export async function helloKey(L, roomId) {
  const raw = await hkdf(L, utf8(roomId), `${V} hello`);
  return subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

// ---------- hellos ----------

// WebKit's X25519 key generation fails now and then with an OperationError (about 3 calls in
// 1,000 in WebKitGTK 2.50, measured): a new try, with new randomness, succeeds.
const GENERATE_TRIES = 5;

/** A non-extractable X25519 pair, tried again when the engine fails to make one. */
export async function generateX25519() {
  for (let tries = 1; ; tries += 1) {
    try {
      return await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
    } catch (error) {
      if (tries >= GENERATE_TRIES) throw error;
    }
  }
}

export async function newKeyPair() {
  const pair = await generateX25519();
  return { privateKey: pair.privateKey, pub: bytesOf(await subtle.exportKey("raw", pair.publicKey)) };
}

const commitOf = (roomId, seat, generation, pub) =>
  sha256(enc(utf8(`${V} commit`), utf8(roomId), num(seat), num(generation), pub));
const macInput = (roomId, seat, generation, commit) =>
  enc(utf8(`${V} hello`), utf8(roomId), num(seat), num(generation), commit);

/** A hello for the wire: commit and MAC, and pub too when `reveal`. */
export async function makeHello(key, roomId, seat, generation, pub, { reveal = false } = {}) {
  const commit = await commitOf(roomId, seat, generation, pub);
  const mac = bytesOf(await subtle.sign("HMAC", key, macInput(roomId, seat, generation, commit)));
  const hello = { seat, generation, commit: toBase64Url(commit), mac: toBase64Url(mac) };
  if (reveal) hello.pub = toBase64Url(pub);
  return hello;
}

function bytes32(text) {
  try {
    const bytes = fromBase64Url(text);
    return bytes.length === 32 ? bytes : null;
  } catch {
    return null;
  }
}

const isSeat = (seat) => seat === 1 || seat === 2;
const isCount = (n) => Number.isSafeInteger(n) && n >= 1;

/** True when the hello is well formed, its MAC holds for its seat and generation, and its commit matches its pub (if revealed). */
export async function verifyHello(key, roomId, hello) {
  if (!hello || typeof hello !== "object" || !isSeat(hello.seat) || !isCount(hello.generation)) return false;
  const commit = bytes32(hello.commit);
  const mac = bytes32(hello.mac);
  const pub = hello.pub == null ? undefined : bytes32(hello.pub); // null: not revealed, as when absent
  if (!commit || !mac || pub === null) return false;
  if (!(await subtle.verify("HMAC", key, mac, macInput(roomId, hello.seat, hello.generation, commit)))) return false;
  return pub === undefined || sameBytes(commit, await commitOf(roomId, hello.seat, hello.generation, pub));
}

// ---------- sessions ----------

const transcriptOf = (roomId, generation, pub1, pub2) => enc(utf8(V), utf8(roomId), num(generation), pub1, pub2);

/** The epoch of a generation's transcript: b64url(SHA256(T)[0:8]). */
export async function epochOf(roomId, generation, pub1, pub2) {
  return toBase64Url((await sha256(transcriptOf(roomId, generation, pub1, pub2))).subarray(0, 8));
}

// The safety code: 15 digits (49.8 bits) in three groups of five, read aloud as numbers are.
// Each group is 5 bytes of s, big-endian, modulo 100,000 (a bias under 10^-7).
const SAFETY_GROUPS = 3;

/** The safety code of the 32 bytes `s`: "12345 67890 12345". */
export function safetyCode(s) {
  const groups = [];
  for (let i = 0; i < SAFETY_GROUPS; i += 1) {
    const value = s.subarray(5 * i, 5 * i + 5).reduce((n, byte) => n * 256 + byte, 0);
    groups.push(String(value % 100_000).padStart(5, "0"));
  }
  return groups.join(" ");
}

/** Session keys for one generation. Throws when the shared secret is refused (all zero, bad key). */
export async function deriveSession({ privateKey, pub1, pub2, theirPub, roomId, mySeat, generation }) {
  const T = transcriptOf(roomId, generation, pub1, pub2);
  let shared;
  try {
    const them = await subtle.importKey("raw", theirPub, { name: "X25519" }, true, []);
    shared = bytesOf(await subtle.deriveBits({ name: "X25519", public: them }, privateKey, 256));
  } catch {
    throw new Error("key agreement refused");
  }
  if (shared.every((b) => b === 0)) throw new Error("key agreement refused");
  const aes = async (info) =>
    subtle.importKey("raw", await hkdf(shared, T, info), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  const k12 = await aes(`${V} 1->2`);
  const k21 = await aes(`${V} 2->1`);
  const safety = safetyCode(await hkdf(shared, T, `${V} safety`));
  return {
    epoch: toBase64Url((await sha256(T)).subarray(0, 8)),
    sendKey: mySeat === 1 ? k12 : k21,
    recvKey: mySeat === 1 ? k21 : k12,
    safety,
  };
}

// ---------- messages ----------

/** The bytes, then zeros up to the smallest bucket that holds them. Throws when none does. */
export function pad(bytes) {
  const size = BUCKETS.find((bucket) => bucket >= bytes.length);
  if (!size) throw new Error("too long to pad");
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/** The bytes before the padding, or null unless this is exactly pad() of non-empty bytes. */
export function unpad(bytes) {
  const bucket = BUCKETS.indexOf(bytes.length);
  if (bucket < 0) return null;
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  if (end === 0 || (bucket > 0 && end <= BUCKETS[bucket - 1])) return null;
  return bytes.slice(0, end);
}

// A message and a receipt are sealed under the same direction key; the kind in the AAD keeps
// one from ever opening as the other.
const aad = (kind, roomId, epoch, seat) => enc(utf8(`${M} ${kind}`), utf8(roomId), utf8(epoch), num(seat));
const characters = (text) => [...text].length;
const fits = (text, limit) => typeof text === "string" && text.length > 0 && characters(text) <= limit;
const isCounter = (n) => Number.isSafeInteger(n) && n >= 0;
const hasExactly = (body, required, optional) =>
  required.every((key) => Object.hasOwn(body, key)) && Object.keys(body).every((key) => required.includes(key) || optional.includes(key));

/**
 * The plaintext of a message: name, text, seq (from 1 per sender and epoch), the sender's clock
 * (ms since 1970), `ack` (the highest seq of the other seat's messages in this epoch the sender had
 * received with none missing below it) and, when read receipts are on, `read` (the highest the
 * sender had had on screen; never above ack).
 */
function messageBody({ name, text, seq, clock, ack, read }) {
  if (!fits(name, NAME_LIMIT) || !fits(text, TEXT_LIMIT) || !isCount(seq) || !isCounter(clock) || !isCounter(ack)) return null;
  if (read !== undefined && !(isCounter(read) && read <= ack)) return null;
  const body = { n: name, t: text, s: seq, c: clock, a: ack };
  if (read !== undefined) body.r = read;
  return body;
}

/** A receipt: name, `delivered` and (when on) `read` as in a message's ack, `sent` (the highest seq this sender sealed in the epoch), clock. */
function receiptBody({ name, delivered, read, sent, clock }) {
  if (!fits(name, NAME_LIMIT) || !isCounter(delivered) || !isCounter(sent) || !isCounter(clock)) return null;
  if (read !== undefined && !(isCounter(read) && read <= delivered)) return null;
  const body = { n: name, d: delivered, h: sent, c: clock };
  if (read !== undefined) body.r = read;
  return body;
}

async function sealBody(kind, key, roomId, epoch, seat, body) {
  const padded = pad(utf8(JSON.stringify(body)));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = bytesOf(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(kind, roomId, epoch, seat) }, key, padded));
  const sealed = new Uint8Array(IV_BYTES + ct.length);
  sealed.set(iv);
  sealed.set(ct, IV_BYTES);
  return `${WIRE_VERSION}.${epoch}.${toBase64Url(sealed)}`;
}

/** The wire text of one message: "3.<epoch>.<b64url(iv ‖ ciphertext)>". Throws on a field out of bounds. */
export async function seal(sendKey, roomId, epoch, mySeat, message) {
  const body = messageBody(message);
  if (!body) throw new Error("bad message");
  return sealBody("message", sendKey, roomId, epoch, mySeat, body);
}

/** The wire text of one receipt, sealed like a message but never openable as one. */
export async function sealReceipt(sendKey, roomId, epoch, mySeat, receipt) {
  const body = receiptBody(receipt);
  if (!body) throw new Error("bad receipt");
  return sealBody("receipt", sendKey, roomId, epoch, mySeat, body);
}

/**
 * {version, epoch, sealed} of a wire text, or null when it is not one. `version` is any
 * positive integer: a page meets a newer one as "reload to continue", not as a forgery.
 */
export function parseWire(text) {
  const match = typeof text === "string" && /^([1-9][0-9]{0,2})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]+)$/.exec(text);
  if (!match) return null;
  try {
    if (fromBase64Url(match[2]).length !== 8) return null;
    const sealed = fromBase64Url(match[3]);
    return sealed.length > IV_BYTES + TAG_BYTES ? { version: Number(match[1]), epoch: match[2], sealed } : null;
  } catch {
    return null;
  }
}

async function openBody(kind, key, roomId, epoch, senderSeat, sealed) {
  let padded;
  try {
    padded = bytesOf(await subtle.decrypt(
      { name: "AES-GCM", iv: sealed.subarray(0, IV_BYTES), additionalData: aad(kind, roomId, epoch, senderSeat) },
      key, sealed.subarray(IV_BYTES)));
  } catch {
    return null;
  }
  const plain = unpad(padded);
  if (!plain) return null;
  let body;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    return null;
  }
  return body && typeof body === "object" && !Array.isArray(body) ? body : null;
}

/** {name, text, seq, clock, ack, read?} of a sealed message, or null unless it opens under this key, room, epoch and seat and every field is in bounds. */
export async function openSealed(key, roomId, epoch, senderSeat, sealed) {
  const body = await openBody("message", key, roomId, epoch, senderSeat, sealed);
  if (!body || !hasExactly(body, ["n", "t", "s", "c", "a"], ["r"])) return null;
  const message = { name: body.n, text: body.t, seq: body.s, clock: body.c, ack: body.a };
  if (Object.hasOwn(body, "r")) message.read = body.r;
  return messageBody(message) ? message : null;
}

/** {name, delivered, sent, clock, read?} of a sealed receipt, or null (as openSealed). */
export async function openReceipt(key, roomId, epoch, senderSeat, sealed) {
  const body = await openBody("receipt", key, roomId, epoch, senderSeat, sealed);
  if (!body || !hasExactly(body, ["n", "d", "h", "c"], ["r"])) return null;
  const receipt = { name: body.n, delivered: body.d, sent: body.h, clock: body.c };
  if (Object.hasOwn(body, "r")) receipt.read = body.r;
  return receiptBody(receipt) ? receipt : null;
}
