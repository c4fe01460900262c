// conversation.js: optimistic sends, confirmation by any path, dedupe, catch-up ordering, retries,
// and every receive check of docs/protocol.md, with real sessions from a real handshake.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Conversation } from "../../static_site/js/conversation.js";
import { seal } from "../../static_site/js/protocol.js";
import { ROOM, page, recordingView, settle, twoPages } from "./helpers.mjs";

/** A server for one room: stores messages, answers pages of `pageSize`, records the POSTs. */
class MessageServer {
  constructor({ pageSize = 200 } = {}) {
    this.messages = [];
    this.posts = [];
    this.pageSize = pageSize;
    this.byClientId = new Map();
    this.fail = 0; // how many next POSTs fail
    this.hold = null; // a promise the next POST answer waits for
    this.lists = [];
  }

  store(seat, text) {
    const message = { id: `m${String(this.messages.length + 1).padStart(4, "0")}`, seat, text, timestamp: 1_700_000_000_000 + this.messages.length };
    this.messages.push(message);
    return message;
  }

  api(seat) {
    return {
      send: async ({ text, clientId }) => {
        this.posts.push({ seat, text, clientId });
        if (this.fail > 0) {
          this.fail -= 1;
          throw Object.assign(new Error("offline"), { status: 0 });
        }
        if (!this.byClientId.has(clientId)) this.byClientId.set(clientId, this.store(seat, text));
        const message = { ...this.byClientId.get(clientId), own: true };
        if (this.hold) await this.hold;
        return { message };
      },
      list: async (after) => {
        this.lists.push(after ?? null);
        const start = after ? this.messages.findIndex((m) => m.id === after) + 1 : 0;
        const page = this.messages.slice(start, start + this.pageSize).map((m) => ({ ...m, own: m.seat === seat }));
        return { messages: page, hellos: [], more: start + this.pageSize < this.messages.length };
      },
    };
  }
}

/** Timers that fire only when a test says so; `pauses` lists each delay asked for. */
function manualTimers() {
  const due = [];
  return {
    pauses: [],
    setTimeout(callback, ms) {
      this.pauses.push(ms);
      due.push(callback);
      return due.length;
    },
    /** Runs what is due (the refill's next try), and lets its fetches and view changes finish. */
    async fire() {
      for (const callback of due.splice(0)) await callback();
    },
  };
}

/** Seat `seat`'s conversation over a handshake page, with a recording view. */
function conversationOf(side, server, { name = `person ${side.seat}` } = {}) {
  const view = recordingView();
  const timers = manualTimers();
  const errors = [];
  const incoming = [];
  let ids = 0;
  const conversation = new Conversation({
    roomId: ROOM,
    seat: side.seat,
    name: () => name,
    api: server.api(side.seat),
    keys: {
      current: () => side.handshake.current,
      sessionFor: (epoch) => side.handshake.sessionFor(epoch),
      takeSeq: (epoch) => side.keys.takeSeq(epoch),
      lostEarlier: () => side.keys.lostEarlier(),
    },
    view,
    onIncoming: (message) => incoming.push(message),
    onError: (error) => errors.push(error),
    clientId: () => `c${side.seat}-${(ids += 1)}`,
    timers,
  });
  return { conversation, view, errors, incoming, timers };
}

async function room({ pageSize } = {}) {
  const pages = await twoPages();
  const server = new MessageServer({ pageSize });
  const alice = conversationOf(pages.one, server, { name: "Alice" });
  const bob = conversationOf(pages.two, server, { name: "Bob" });
  return { ...pages, server, alice, bob };
}

/** Seals as a side would, with a chosen seq (a hostile or buggy peer, or a replay source). */
const sealAs = (side, text, seq, { name = "Bob", session = side.handshake.current, roomId = ROOM } = {}) =>
  seal(session.sendKey, roomId, session.epoch, side.seat, { name, text, seq, clock: Date.now(), ack: 0 });

describe("sending", () => {
  test("a message is shown at once, sealed with our name inside, confirmed by the POST's answer", async () => {
    const { server, alice, bob } = await room();
    const handle = alice.conversation.write("hi Bob");
    assert.equal(handle.status, "sending");
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["own:hi Bob"]);
    assert.equal(handle.status, "sent");
    assert.equal(handle.timestamp, server.messages[0].timestamp);
    assert.match(server.messages[0].text, /^3\.[A-Za-z0-9_-]{11}\./);
    assert.ok(!server.messages[0].text.includes("Alice") && !server.messages[0].text.includes("hi Bob"));
    bob.conversation.push({ ...server.messages[0], own: false });
    await bob.conversation.idle();
    assert.deepEqual(bob.view.picture, ["other:hi Bob"]);
    assert.equal(bob.view.log[0].sender, "Alice");
    assert.deepEqual(bob.incoming, [{ name: "Alice" }]);
  });

  test("before the handshake, messages wait; once it is done they go out in the order written", async () => {
    const { server, alice, one } = await room();
    const session = one.handshake.current;
    one.handshake.current = null;
    const first = alice.conversation.write("one");
    alice.conversation.write("two");
    await alice.conversation.idle();
    assert.deepEqual(alice.view.log.map((h) => h.status), ["waiting", "waiting"]);
    assert.equal(first.status, "waiting");
    assert.equal(server.posts.length, 0, "nothing leaves before the session exists");
    one.handshake.current = session;
    alice.conversation.write("three");
    alice.conversation.pump();
    await alice.conversation.idle();
    assert.deepEqual(server.posts.map((p) => p.clientId), ["c1-1", "c1-2", "c1-3"]);
    assert.deepEqual(alice.view.log.map((h) => h.status), ["sent", "sent", "sent"]);
  });

  test("sends go out one at a time: the next POST waits for the previous answer", async () => {
    const { server, alice } = await room();
    let release;
    server.hold = new Promise((resolve) => { release = resolve; });
    alice.conversation.write("a");
    alice.conversation.write("b");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(server.posts.length, 1);
    server.hold = null;
    release();
    await alice.conversation.idle();
    assert.equal(server.posts.length, 2);
  });

  test("seq numbers go 1, 2, 3 for each sender in each epoch", async () => {
    const { server, alice, bob, two } = await room();
    for (const text of ["a", "b", "c"]) alice.conversation.write(text);
    bob.conversation.write("x");
    await Promise.all([alice.conversation.idle(), bob.conversation.idle()]);
    const session = await two.handshake.sessionFor(two.handshake.current.epoch);
    const { openSealed, parseWire } = await import("../../static_site/js/protocol.js");
    const seqs = [];
    for (const message of server.messages) {
      const { epoch, sealed } = parseWire(message.text);
      const key = message.seat === 2 ? session.sendKey : session.recvKey;
      seqs.push(`${message.seat}:${(await openSealed(key, ROOM, epoch, message.seat, sealed)).seq}`);
    }
    assert.deepEqual(seqs.sort(), ["1:1", "1:2", "1:3", "2:1"]);
  });

  test("a failed send stays, says so, and its retry posts the same clientId and ciphertext", async () => {
    const { server, alice } = await room();
    server.fail = 1;
    const handle = alice.conversation.write("are you there?");
    await alice.conversation.idle();
    assert.equal(handle.status, "failed");
    assert.equal(alice.errors.length, 1);
    alice.conversation.retry(handle);
    await alice.conversation.idle();
    assert.equal(handle.status, "sent");
    assert.equal(server.posts.length, 2);
    assert.deepEqual(server.posts[0], server.posts[1]);
    assert.equal(server.messages.length, 1);
    assert.deepEqual(alice.view.picture, ["own:are you there?"]);
  });

  test("a catch-up retries failed sends", async () => {
    const { server, alice } = await room();
    server.fail = 1;
    const handle = alice.conversation.write("later");
    await alice.conversation.idle();
    assert.equal(handle.status, "failed");
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.equal(handle.status, "sent");
  });

  test("a lost answer: the push confirms the send, which is shown once", async () => {
    const { server, alice } = await room();
    let release;
    server.hold = new Promise((resolve) => { release = resolve; });
    const handle = alice.conversation.write("did this arrive?");
    await new Promise((resolve) => setTimeout(resolve, 20));
    alice.conversation.push({ ...server.messages[0], own: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(handle.status, "sent");
    release();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["own:did this arrive?"]);
  });

  test("a send confirmed by a catch-up (the answer never came) is shown once", async () => {
    const { server, alice } = await room();
    server.fail = 1;
    const handle = alice.conversation.write("stored, answer lost");
    await alice.conversation.idle();
    server.store(1, server.posts[0].text); // the server had stored it after all
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.equal(handle.status, "sent");
    assert.deepEqual(alice.view.picture, ["own:stored, answer lost"]);
    assert.equal(server.posts.length, 1, "a confirmed send is not retried");
  });
});

describe("receiving", () => {
  test("each message id is shown once, whichever paths bring it", async () => {
    const { server, alice, bob } = await room();
    bob.conversation.write("once");
    await bob.conversation.idle();
    const pushed = { ...server.messages[0], own: false };
    alice.conversation.push(pushed);
    alice.conversation.push(pushed);
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["other:once"]);
  });

  test("pushes during a catch-up wait and follow the catch-up's messages in order", async () => {
    const { server, alice, two } = await room();
    for (let seq = 1; seq <= 3; seq += 1) server.store(2, await sealAs(two, `old ${seq}`, seq));
    const list = server.api(1).list;
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    alice.conversation.deps.api.list = async (after) => { await gate; return list(after); };
    const catching = alice.conversation.catchUp();
    const late = server.store(2, await sealAs(two, "pushed", 4));
    alice.conversation.push({ ...late, own: false });
    release();
    await catching;
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["other:old 1", "other:old 2", "other:old 3", "other:pushed"]);
  });

  test("a pushed frame without a message, held during a catch-up, loses no later push", async () => {
    const { server, alice, two } = await room();
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    const list = server.api(1).list;
    alice.conversation.deps.api.list = async (after) => { await gate; return list(after); };
    const catching = alice.conversation.catchUp();
    alice.conversation.push(undefined);
    alice.conversation.push({ nothing: "here" });
    const late = server.store(2, await sealAs(two, "after the bad frames", 1));
    alice.conversation.push({ ...late, own: false });
    release();
    await catching;
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["other:after the bad frames"]);
  });

  test("a catch-up follows the pages (after = the last id) and carries on from there later", async () => {
    const { server, alice, two } = await room({ pageSize: 2 });
    for (let seq = 1; seq <= 5; seq += 1) server.store(2, await sealAs(two, `m${seq}`, seq));
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["other:m1", "other:m2", "other:m3", "other:m4", "other:m5"]);
    assert.deepEqual(server.lists, [null, "m0002", "m0004"]);
    server.store(2, await sealAs(two, "m6", 6));
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.equal(server.lists.at(-1), "m0005");
    assert.equal(alice.view.picture.at(-1), "other:m6");
  });

  test("the hellos of each page go to the handshake before its messages are opened", async () => {
    const { server, alice } = await room();
    const order = [];
    alice.conversation.deps.onHellos = async () => order.push("hellos");
    alice.conversation.deps.view.add = (entry) => { order.push("message"); return { ...entry }; };
    server.store(2, "garbage");
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(order, ["hellos", "message"]);
  });

  test("own messages from the history (a reload, another tab) open with our own key, on our side", async () => {
    const { server, alice, one, two } = await room();
    server.store(1, await sealAs(one, "from my other tab", 1, { name: "Alice" }));
    server.store(2, await sealAs(two, "theirs", 1));
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["own:from my other tab", "other:theirs"]);
    assert.deepEqual(alice.incoming, [{ name: "Bob" }]);
  });
});

describe("receive checks", () => {
  async function aliceReads(build) {
    const setup = await room();
    for (const [seat, text] of await build(setup)) setup.server.store(seat, text);
    await setup.alice.conversation.catchUp();
    await setup.alice.conversation.idle();
    return setup.alice.view;
  }

  test("not a wire text, or no seat: unverifiable, shown in place; the rest is read", async () => {
    const view = await aliceReads(async ({ two }) => [
      [2, "hello"], [2, "2.AAAAAAAAAAA"], [2, await sealAs(two, "fine", 1)], [2, "<b>x</b>"], [3, await sealAs(two, "no seat", 2)],
    ]);
    assert.deepEqual(view.picture, ["other!unverifiable", "other!unverifiable", "other:fine", "other!unverifiable", "other!unverifiable"]);
  });

  test("an epoch unknown to a page that holds its first generation is not of this room: unverifiable", async () => {
    const view = await aliceReads(async ({ two }) => {
      const wire = await sealAs(two, "old", 1);
      return [[2, `3.AAAAAAAAAAA.${wire.split(".")[2]}`]];
    });
    assert.deepEqual(view.picture, ["other!unverifiable"]);
  });

  test("after its keys were lost, a page shows the earlier generation's messages as earlier keys", async () => {
    const { server: hellos, L, one, two } = await twoPages();
    const messages = new MessageServer();
    messages.store(2, await sealAs(two, "before", 1));
    messages.store(1, await sealAs(one, "mine, before", 1, { name: "Alice" }));
    hellos.pages.splice(hellos.pages.indexOf(one.handshake), 1);
    const fresh = await page({ server: hellos, seat: 1, L }); // cleared storage, same seat
    await fresh.handshake.update(hellos.list());
    await settle(fresh.handshake, two.handshake);
    messages.store(2, await sealAs(two, "after", 1));
    const alice = conversationOf(fresh, messages);
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["other!earlier-keys", "own!earlier-keys", "other:after"]);
  });

  test("a message sealed for another room (same keys, same epoch) is unverifiable", async () => {
    const view = await aliceReads(async ({ two }) => [[2, await sealAs(two, "elsewhere", 1, { roomId: "roomroomroomroomroom2" })]]);
    assert.deepEqual(view.picture, ["other!unverifiable"]);
  });

  test("our own message handed back as theirs: reflection, its text not shown", async () => {
    const view = await aliceReads(async ({ one }) => [[2, await sealAs(one, "mine", 1, { name: "Alice" })]]);
    assert.deepEqual(view.picture, ["other!reflection"]);
  });

  test("their message relabelled as ours: unverifiable", async () => {
    const view = await aliceReads(async ({ two }) => [[1, await sealAs(two, "theirs", 1)]]);
    assert.deepEqual(view.picture, ["own!unverifiable"]);
  });

  test("a copy under a new id: replay, the copy's text not shown again", async () => {
    const view = await aliceReads(async ({ two }) => {
      const wire = await sealAs(two, "pay 10", 1);
      return [[2, wire], [2, wire], [2, await sealAs(two, "pay 10 again", 1)]];
    });
    assert.deepEqual(view.picture, ["other:pay 10", "other!replay", "other!replay"]);
  });

  test("a seq past the next: a gap marker until the missing ones arrive, out of order", async () => {
    const setup = await room();
    const { server, alice, two } = setup;
    const wires = [];
    for (let seq = 1; seq <= 5; seq += 1) wires.push(await sealAs(two, `m${seq}`, seq));
    const read = async (...indexes) => {
      for (const i of indexes) server.store(2, wires[i]);
      await alice.conversation.catchUp();
      await alice.conversation.idle();
    };
    await read(0, 3);
    assert.deepEqual(alice.view.picture, ["other:m1", "gap:2", "other:m4"]);
    await read(2);
    assert.deepEqual(alice.view.picture, ["other:m1", "gap:1", "other:m4", "other!out-of-order:m3"]);
    await read(1);
    assert.deepEqual(alice.view.picture, ["other:m1", "other:m4", "other!out-of-order:m3", "other!out-of-order:m2"]);
    await read(4);
    assert.equal(alice.view.picture.at(-1), "other:m5");
  });

  test("a seq far past the next is shown with its gap, at once (a range, not a list of numbers)", async () => {
    const started = Date.now();
    const view = await aliceReads(async ({ two }) => [
      [2, await sealAs(two, "first", 1)],
      [2, await sealAs(two, "far ahead", 2 ** 53 - 1)],
    ]);
    assert.deepEqual(view.picture, ["other:first", `gap:${2 ** 53 - 3}`, "other:far ahead"]);
    assert.ok(Date.now() - started < 2000);
  });

  test("a dropped first message leaves a gap before the first one shown", async () => {
    const view = await aliceReads(async ({ two }) => [[2, await sealAs(two, "second", 2)]]);
    assert.deepEqual(view.picture, ["gap:1", "other:second"]);
  });

  test("streams are per (epoch, seat): the same seq from each seat and each epoch is no replay", async () => {
    const setup = await room();
    const { server, alice, one, two } = setup;
    const other = { ...two.handshake.current };
    server.store(2, await sealAs(two, "theirs 1", 1));
    server.store(1, await sealAs(one, "mine 1", 1, { name: "Alice" }));
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["other:theirs 1", "own:mine 1"]);
    // A second epoch in the same conversation: seq 1 again is fine.
    const fake = { ...other, epoch: "BBBBBBBBBBA" };
    const sessions = alice.conversation.deps.keys;
    const original = sessions.sessionFor;
    sessions.sessionFor = async (epoch) => (epoch === fake.epoch ? { ...(await original(other.epoch)), epoch } : original(epoch));
    server.store(2, await seal(fake.sendKey, ROOM, fake.epoch, 2, { name: "Bob", text: "new epoch 1", seq: 1, clock: 1, ack: 0 }));
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.equal(alice.view.picture.at(-1), "other:new epoch 1");
  });

  test("our own sends count in our stream: a copy of one is a replay, no gap opens behind them", async () => {
    const { server, alice } = await room();
    alice.conversation.write("one");
    alice.conversation.write("two");
    await alice.conversation.idle();
    server.store(1, server.messages[0].text);
    await alice.conversation.catchUp();
    await alice.conversation.idle();
    assert.deepEqual(alice.view.picture, ["own:one", "own:two", "own!replay"]);
  });
});

describe("gap refill", () => {
  /** Bob's messages m1..m{count}, stored; Alice is pushed those at `pushed` (indexes). */
  async function lostPushes(count, pushed, { storeAll = true } = {}) {
    const setup = await room();
    const { server, alice, two } = setup;
    for (let seq = 1; seq <= count; seq += 1) {
      const message = server.store(2, await sealAs(two, `m${seq}`, seq));
      if (!storeAll && !pushed.includes(seq - 1)) server.messages.pop();
      else if (pushed.includes(seq - 1)) alice.conversation.push({ ...message, own: false });
    }
    await alice.conversation.idle();
    return setup;
  }

  test("a push lost on the way is fetched from the store by itself, from the message before the gap", async () => {
    const { server, alice } = await lostPushes(4, [0, 2, 3]);
    assert.deepEqual(alice.view.picture, ["other:m1", "gap:1", "other:m3", "other:m4"]);
    assert.deepEqual(alice.timers.pauses, [2000]); // a late push may still come
    await alice.timers.fire();
    await alice.conversation.idle();
    assert.deepEqual(server.lists, [server.messages[0].id]);
    assert.deepEqual(alice.view.picture, ["other:m1", "other:m3", "other:m4", "other!out-of-order:m2"]);
    assert.equal(alice.timers.pauses.length, 1, "nothing more to do");
  });

  test("a lost first message is fetched from the start; the page's last message stays where it was", async () => {
    const { server, alice } = await lostPushes(2, [1]);
    await alice.timers.fire();
    await alice.conversation.idle();
    assert.deepEqual(server.lists, [null]);
    assert.deepEqual(alice.view.picture, ["other:m2", "other!out-of-order:m1"]);
    assert.equal(alice.conversation.lastId, server.messages[1].id);
  });

  test("a gap the store cannot fill is tried 4 times, after pauses that double, then stays marked", async () => {
    const { server, alice } = await lostPushes(3, [0, 2], { storeAll: false });
    for (let i = 0; i < 6; i += 1) {
      await alice.timers.fire();
      await alice.conversation.idle();
    }
    assert.deepEqual(alice.timers.pauses, [2000, 4000, 8000, 16000]);
    assert.equal(server.lists.length, 4);
    assert.deepEqual(alice.view.picture, ["other:m1", "gap:1", "other:m3"]);
  });

  test("a failed fetch is tried again after the next pause; a try reads at most 3 pages", async () => {
    const setup = await room({ pageSize: 2 });
    const { server, alice, two } = setup;
    for (let seq = 1; seq <= 12; seq += 1) {
      const message = server.store(2, await sealAs(two, `m${seq}`, seq));
      if (seq === 1 || seq === 12) alice.conversation.push({ ...message, own: false });
    }
    await alice.conversation.idle();
    const list = alice.conversation.deps.api.list;
    let failures = 1;
    alice.conversation.deps.api.list = async (after) => {
      if (failures-- > 0) throw Object.assign(new Error("offline"), { status: 0 });
      return list(after);
    };
    await alice.timers.fire();
    assert.deepEqual(alice.timers.pauses, [2000, 4000]);
    await alice.timers.fire();
    await alice.conversation.idle();
    assert.equal(server.lists.length, 3);
    assert.equal(alice.view.picture[1], "gap:4"); // m2..m7 came; m8..m11 are for the next try
    await alice.timers.fire();
    await alice.conversation.idle();
    assert.equal(alice.view.picture.filter((entry) => entry.startsWith("gap")).length, 0);
  });
});
