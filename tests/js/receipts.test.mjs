// What each side had of the other (docs/protocol.md, "Receipts and what each side had"): sealed
// receipts relayed between two real conversations over a real handshake, acks inside messages,
// "not delivered yet", a message written before ours arrived, the sender's clock, and every
// receipt a hostile server could hand a page (forged, reflected, replayed, from another room).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Conversation, DELIVERY_WAIT_MS, RECEIPT_GAP_GRACE_MS } from "../../static_site/js/conversation.js";
import { RECEIPT_DELAY_MS } from "../../static_site/js/receipts.js";
import { parseWire, seal, sealReceipt } from "../../static_site/js/protocol.js";
import { ROOM, fakeTimers, recordingView, twoPages } from "./helpers.mjs";

/** Stores messages; relays receipts unless told to drop or hold them. */
class Server {
  constructor() {
    this.messages = [];
    this.sides = new Map(); // seat -> side
    this.receipts = []; // every receipt frame sent, {from, text}
    this.relay = true;
  }

  store(seat, text) {
    const message = { id: `m${String(this.messages.length + 1).padStart(4, "0")}`, seat, text, timestamp: this.clock.now };
    this.messages.push(message);
    return message;
  }

  api(seat) {
    return {
      send: async ({ text }) => ({ message: { ...this.store(seat, text), own: true } }),
      list: async () => ({ messages: this.messages.map((m) => ({ ...m, own: m.seat === seat })), hellos: [], more: false }),
    };
  }

  sendReceipt(seat) {
    return (text) => {
      this.receipts.push({ from: seat, text });
      if (this.relay) this.sides.get(seat === 1 ? 2 : 1).conversation.takeReceipt({ type: "receipt", text });
      return true;
    };
  }

  /** Pushes a stored message to the other side, as the send's push would. */
  push(message) {
    this.sides.get(message.seat === 1 ? 2 : 1).conversation.push({ ...message, own: false });
  }
}

function sideOf(pageSide, server, clock, name, { readReceipts = true, present = true } = {}) {
  const view = recordingView();
  const refused = [];
  const names = [];
  const side = { view, refused, names, present, readReceipts };
  side.conversation = new Conversation({
    roomId: ROOM,
    seat: pageSide.seat,
    name: () => name,
    api: server.api(pageSide.seat),
    keys: {
      current: () => pageSide.handshake.current,
      sessionFor: (epoch) => pageSide.handshake.sessionFor(epoch),
      takeSeq: (epoch) => pageSide.keys.takeSeq(epoch),
      lostEarlier: () => pageSide.keys.lostEarlier(),
    },
    view,
    clock: { now: () => clock.now, setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (id) => clock.clearTimeout(id) },
    timers: { setTimeout() {} },
    sendReceipt: server.sendReceipt(pageSide.seat),
    readReceipts: () => side.readReceipts,
    otherPresent: () => side.present,
    onName: (other) => names.push(other),
    onRefusedReceipt: (kind) => refused.push(kind),
  });
  server.sides.set(pageSide.seat, side);
  return side;
}

async function room(options = {}) {
  const pages = await twoPages();
  const clock = fakeTimers();
  clock.now = 1_733_400_000_000;
  const server = new Server();
  server.clock = clock;
  const alice = sideOf(pages.one, server, clock, "Alice", options.alice);
  const bob = sideOf(pages.two, server, clock, "Bob", options.bob);
  const idle = async () => {
    // Until nothing moves: a receipt sent by one page is taken in the other's queue.
    for (let i = 0; i < 10; i += 1) {
      await alice.conversation.idle();
      await bob.conversation.idle();
      await alice.conversation.receipts.chain;
      await bob.conversation.receipts.chain;
    }
  };
  /** Moves the clock on, running what falls due, and lets every page settle. */
  const wait = async (ms) => {
    clock.advance(ms);
    await idle();
  };
  return { ...pages, clock, server, alice, bob, idle, wait };
}

/** Writes from a side, lets it store, and pushes it to the other side (unless `push` is false). */
async function say(r, side, text, { push = true } = {}) {
  const handle = side.conversation.write(text);
  await r.idle();
  const message = r.server.messages.at(-1);
  if (push) r.server.push(message);
  await r.idle();
  return { handle, message };
}

const status = (handle) => handle.status;

describe("receipts", () => {
  test("✓ stored, ✓✓ delivered once the other page opened it, read once it was on screen; one receipt per burst", async () => {
    const r = await room();
    const one = await say(r, r.alice, "one");
    const two = await say(r, r.alice, "two");
    assert.deepEqual([one.handle, two.handle].map(status), ["sent", "sent"]);
    assert.equal(r.server.receipts.length, 0, "Bob batches what he received");
    await r.wait(RECEIPT_DELAY_MS);
    assert.equal(r.server.receipts.length, 1, "one receipt for both");
    assert.deepEqual([one.handle, two.handle].map(status), ["delivered", "delivered"]);
    const [, shownOne, shownTwo] = [null, ...r.bob.view.log];
    r.bob.conversation.shown(shownOne);
    r.bob.conversation.shown(shownTwo);
    await r.wait(RECEIPT_DELAY_MS);
    assert.deepEqual([one.handle, two.handle].map(status), ["read", "read"]);
    assert.equal(r.server.receipts.length, 2);
  });

  test("with read receipts off, the other sees delivered, never read; and the receipt says nothing of reading", async () => {
    const r = await room({ bob: { readReceipts: false } });
    const one = await say(r, r.alice, "one");
    r.bob.conversation.shown(r.bob.view.log[0]);
    await r.wait(RECEIPT_DELAY_MS * 3);
    assert.equal(status(one.handle), "delivered");
    const reply = await say(r, r.bob, "reply");
    const opened = await r.alice.conversation.open(reply.message);
    assert.equal(opened.read, undefined, "no read field in Bob's message either");
    assert.equal(opened.ack, 1);
  });

  test("a message carries what its author had: the ack alone marks ours delivered, no receipt needed", async () => {
    const r = await room();
    r.server.relay = false;
    const one = await say(r, r.alice, "question");
    await say(r, r.bob, "answer");
    assert.equal(status(one.handle), "delivered");
    assert.equal(r.server.receipts.length, 0, "Bob's message said it before a receipt was due");
  });

  test("the sender's clock travels sealed and is what the page shows", async () => {
    const r = await room();
    r.clock.now += 60_000;
    await say(r, r.alice, "at a minute past");
    const entry = r.bob.view.log[0];
    assert.equal(entry.clock, r.clock.now);
    assert.equal(entry.timestamp, r.server.messages[0].timestamp);
  });

  test("the other's name arrives sealed in the first receipt, before any message", async () => {
    const r = await room();
    await r.bob.conversation.announce();
    await r.idle();
    assert.deepEqual(r.alice.names, ["Bob"]);
    assert.ok(!r.server.receipts[0].text.includes("Bob"));
  });
});

describe("what a hostile server does with receipts and messages", () => {
  test("the last message dropped: the author's page says not delivered yet while the other is here", async () => {
    const r = await room();
    const kept = await say(r, r.alice, "kept");
    await r.wait(RECEIPT_DELAY_MS);
    const dropped = await say(r, r.alice, "dropped", { push: false });
    r.server.messages.pop(); // never stored for Bob either
    await r.wait(DELIVERY_WAIT_MS - 1);
    assert.equal(status(dropped.handle), "sent");
    await r.wait(1);
    assert.equal(status(dropped.handle), "undelivered");
    assert.equal(status(kept.handle), "delivered");
  });

  test("not delivered while the other is away is no alarm; it is watched again when they come", async () => {
    const r = await room({ alice: { present: false } });
    const one = await say(r, r.alice, "later", { push: false });
    await r.wait(DELIVERY_WAIT_MS * 2);
    assert.equal(status(one.handle), "sent");
    r.alice.present = true;
    r.alice.conversation.otherArrived();
    await r.wait(DELIVERY_WAIT_MS);
    assert.equal(status(one.handle), "undelivered");
  });

  test("a message withheld and released late: the answer written without it says so, in place", async () => {
    const r = await room();
    const question = await say(r, r.alice, "shall we meet at 5?", { push: false }); // withheld from Bob
    const answer = await say(r, r.bob, "what about the documents?");
    const seen = r.alice.view.log.find((entry) => entry.text === "what about the documents?");
    assert.equal(seen.unseen, 1, "Bob wrote it before Alice's question reached him");
    r.server.push(question.message); // released late
    await r.idle();
    await r.wait(RECEIPT_DELAY_MS);
    assert.equal(status(question.handle), "delivered");
    assert.ok(answer);
  });

  test("a reorder across seats: Bob's yes shown after Alice's second question is marked", async () => {
    const r = await room();
    await say(r, r.alice, "meet at 5?");
    const yes = r.bob.conversation.write("yes");
    await r.idle();
    const yesMessage = r.server.messages.at(-1);
    await say(r, r.alice, "bring the documents?"); // Bob has not seen it; the server shows his yes after it
    r.server.push(yesMessage);
    await r.idle();
    const shown = r.alice.view.log.find((entry) => entry.text === "yes");
    assert.equal(shown.unseen, 1);
    assert.ok(yes);
  });

  test("the other's receipt says a message was sealed that never came: a gap, after a grace", async () => {
    const r = await room();
    await say(r, r.bob, "first");
    await say(r, r.bob, "second", { push: false }); // stored, never pushed to Alice
    r.server.messages.pop(); // and dropped from the store
    await r.bob.conversation.announce();
    await r.idle();
    assert.deepEqual(r.alice.view.picture, ["other:first"]);
    await r.wait(RECEIPT_GAP_GRACE_MS);
    assert.deepEqual(r.alice.view.picture, ["other:first", "gap:1"]);
  });

  test("forged, reflected, replayed and other-room receipts are refused and change nothing", async () => {
    const r = await room();
    const one = await say(r, r.alice, "hello");
    r.server.relay = false;
    const bobSession = r.two.handshake.current;
    const aliceSession = r.one.handshake.current;
    const facts = { name: "Bob", delivered: 1, sent: 0, clock: r.clock.now, read: 1 };
    const take = (text) => r.alice.conversation.takeReceipt({ type: "receipt", text });
    // Forged: sealed under a key the server made up.
    const elsewhere = await twoPages();
    const forgedKey = elsewhere.two.handshake.current.sendKey;
    await take(await sealReceipt(forgedKey, ROOM, bobSession.epoch, 2, facts));
    // Reflected: Alice's own receipt handed back to her as Bob's.
    await take(await sealReceipt(aliceSession.sendKey, ROOM, aliceSession.epoch, 1, { ...facts, name: "Alice" }));
    // From another room: Bob's real key, another room's ID in the AAD.
    await take(await sealReceipt(bobSession.sendKey, "roomroomroomroomroom2", bobSession.epoch, 2, facts));
    // A message where a receipt should be.
    await take(await seal(bobSession.sendKey, ROOM, bobSession.epoch, 2, { name: "Bob", text: "x", seq: 1, clock: 1, ack: 1 }));
    await r.idle();
    assert.deepEqual(r.alice.refused, ["unverifiable", "reflection", "unverifiable", "unverifiable"]);
    assert.equal(status(one.handle), "sent");
    assert.deepEqual(r.alice.names, []);
    // A real one counts once; the same bytes again are a replay.
    const real = await sealReceipt(bobSession.sendKey, ROOM, bobSession.epoch, 2, facts);
    assert.equal(await take(real), true);
    assert.equal(await take(real), false);
    assert.equal(r.alice.refused.at(-1), "replay");
    await r.idle();
    assert.equal(status(one.handle), "read");
  });

  test("a newer version's message is 'reload to continue', never a forgery", async () => {
    const r = await room();
    const bobSession = r.two.handshake.current;
    const wire = await seal(bobSession.sendKey, ROOM, bobSession.epoch, 2, { name: "Bob", text: "x", seq: 1, clock: 1, ack: 0 });
    const newer = `4.${wire.split(".").slice(1).join(".")}`;
    assert.ok(parseWire(newer));
    r.alice.conversation.push({ id: "m9999", seat: 2, text: newer, timestamp: 1 });
    await r.idle();
    assert.deepEqual(r.alice.view.picture, ["other!newer-version"]);
  });
});

describe("keeping the conversation", () => {
  test("the transcript holds each readable message once, in the log's order, with names and the senders' clocks", async () => {
    const r = await room();
    await say(r, r.alice, "hi Bob");
    r.clock.now += 5_000;
    await say(r, r.bob, "hi Alice");
    const lines = r.alice.conversation.transcript.map(({ own, sender, text, clock }) => ({ own, sender, text, clock }));
    assert.deepEqual(lines, [
      { own: true, sender: "Alice", text: "hi Bob", clock: 1_733_400_000_000 },
      { own: false, sender: "Bob", text: "hi Alice", clock: 1_733_400_005_000 },
    ]);
  });
});
