// handshake.js: commit then reveal, generations, re-keying, every hello verified, keys kept per room.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MAX_ABANDONED } from "../../static_site/js/handshake.js";
import { MAX_ROOM_LIFE_S, RoomKeys } from "../../static_site/js/room-keys.js";
import { memoryKeystore } from "../../static_site/js/keystore.js";
import { epochOf, helloKey, makeHello, newKeyPair, newLinkKey, parseLinkKey, toBase64Url } from "../../static_site/js/protocol.js";
import { FakeChannels, FakeLocks, HelloServer, ROOM, closeTab, memoryStore, page, settle, twoPages } from "./helpers.mjs";

describe("the handshake", { timeout: 10_000 }, () => {
  test("two pages agree on one epoch and one safety code; keys are non-extractable", async () => {
    const { one, two } = await twoPages();
    const a = one.handshake.current;
    const b = two.handshake.current;
    assert.ok(a && b);
    assert.equal(a.epoch, b.epoch);
    assert.equal(a.generation, 1);
    assert.match(a.safety, /^\d{5} \d{5} \d{5}$/);
    assert.equal(one.handshake.safety, two.handshake.safety);
    assert.equal(a.sendKey.extractable, false);
    assert.deepEqual([one.problems, two.problems], [[], []]);
    assert.equal(one.changes.length, 1, "the session appears once");
    const record = one.store.records.get(ROOM);
    assert.equal(record.seat, 1);
    assert.deepEqual(Object.keys(record.pairs[1]), ["pub"], "no private key rests in the keystore");
    assert.equal(record.sessions[a.epoch].recvKey.extractable, false);
    assert.equal(record.sessions[a.epoch].nextSeq, 1);
  });

  test("commit first: no pub is published before the other seat's commit for that generation", async () => {
    const { server } = await twoPages();
    const seen = { 1: new Set(), 2: new Set() };
    for (const hello of server.log) {
      const other = hello.seat === 1 ? 2 : 1;
      if (hello.pub) assert.ok(seen[other].has(hello.generation), `seat ${hello.seat} revealed before the commit of seat ${other}`);
      seen[hello.seat].add(hello.generation);
    }
    assert.equal(server.log[0].pub, undefined, "the first to arrive commits without revealing");
    assert.ok(server.log.some((h) => h.seat === 1 && h.pub) && server.log.some((h) => h.seat === 2 && h.pub));
  });

  test("alone, a page commits and waits: no session, no reveal", async () => {
    const server = new HelloServer();
    const one = await page({ server, seat: 1, L: parseLinkKey(newLinkKey()) });
    await one.handshake.update([]);
    assert.equal(one.handshake.current, null);
    assert.deepEqual(server.log.map((h) => [h.seat, h.generation, "pub" in h]), [[1, 1, false]]);
    await one.handshake.update(server.list());
    assert.equal(server.log.length, 1, "its own hello coming back publishes nothing more");
  });

  test("a reload reads its keys back: same session, nothing published", async () => {
    const { server, L, one } = await twoPages();
    const published = server.log.length;
    const again = await page({ server: null, seat: 1, L, store: one.store, publish: server.publisher(1) });
    await again.handshake.update(server.list());
    assert.equal(again.handshake.current.epoch, one.handshake.current.epoch);
    assert.equal(server.log.length, published);
  });

  test("a reload before the other arrives starts a new generation: private keys never rest", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const browser = { locks: new FakeLocks(), channels: new FakeChannels() };
    const first = await page({ server, seat: 1, L, browser });
    await first.handshake.update([]);
    assert.deepEqual(Object.keys(first.store.records.get(ROOM).pairs[1]), ["pub"]);
    server.pages.splice(server.pages.indexOf(first.handshake), 1);
    closeTab(first);
    const reloaded = await page({ server, seat: 1, L, store: first.store, browser });
    await reloaded.handshake.update(server.list());
    assert.deepEqual(server.log.map((h) => [h.seat, h.generation, "pub" in h]), [[1, 1, false], [1, 2, false]]);
    const two = await page({ server, seat: 2, L });
    await two.handshake.update(server.list());
    await settle(reloaded.handshake, two.handshake);
    assert.equal(reloaded.handshake.current.generation, 2);
    assert.equal(reloaded.handshake.safety, two.handshake.safety);
  });

  test("a second tab opened while the first waits holds back; the first tab's session reaches it", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const browser = { locks: new FakeLocks(), channels: new FakeChannels() };
    const tab1 = await page({ server, seat: 1, L, browser });
    await tab1.handshake.update([]);
    const tab2 = await page({ server, seat: 1, L, store: tab1.store, browser });
    await tab2.handshake.update(server.list());
    assert.equal(server.log.length, 1, "the second tab does not start a generation of its own");
    const two = await page({ server, seat: 2, L });
    await two.handshake.update(server.list());
    await settle(tab1.handshake, tab2.handshake, two.handshake);
    assert.equal(tab1.handshake.current.generation, 1);
    assert.equal(tab2.handshake.current?.epoch, tab1.handshake.current.epoch);
    assert.equal(tab1.keys.privateKeys.size, 0, "a derived generation's private key is dropped");
  });

  test("a tab waiting on another's key starts a new generation once that tab closes", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const browser = { locks: new FakeLocks(), channels: new FakeChannels() };
    const tab1 = await page({ server, seat: 1, L, browser });
    await tab1.handshake.update([]);
    const tab2 = await page({ server, seat: 1, L, store: tab1.store, browser });
    await tab2.handshake.update(server.list());
    server.pages.splice(server.pages.indexOf(tab1.handshake), 1);
    closeTab(tab1);
    await settle(tab2.handshake);
    assert.deepEqual(server.log.map((h) => h.generation), [1, 2]);
    const two = await page({ server, seat: 2, L });
    await two.handshake.update(server.list());
    await settle(tab2.handshake, two.handshake);
    assert.equal(tab2.handshake.safety, two.handshake.safety);
  });

  test("a page whose private key is gone starts generation max + 1; both re-key, old keys stay", async () => {
    const { server, L, one, two } = await twoPages();
    const oldEpoch = two.handshake.current.epoch;
    server.pages.splice(server.pages.indexOf(one.handshake), 1);
    const fresh = await page({ server, seat: 1, L }); // cleared storage, same seat
    await fresh.handshake.update(server.list());
    await settle(fresh.handshake, two.handshake);
    assert.equal(fresh.handshake.current.generation, 2);
    assert.equal(two.handshake.current.epoch, fresh.handshake.current.epoch);
    assert.notEqual(fresh.handshake.current.epoch, oldEpoch);
    assert.equal(fresh.handshake.safety, two.handshake.safety);
    assert.ok(await two.handshake.sessionFor(oldEpoch), "the other still reads the old generation");
    assert.equal(await fresh.handshake.sessionFor(oldEpoch), undefined, "the new page cannot");
    const pubs = server.log.filter((h) => h.pub).map((h) => `${h.seat}:${h.generation}:${h.pub}`);
    assert.equal(new Set(pubs.map((p) => p.split(":")[2])).size, pubs.length, "every generation has fresh keys on both sides");
  });

  test("new keys after a session both held are a key change on both sides; the first keys are not", async () => {
    const { server, L, one, two } = await twoPages();
    assert.equal(one.handshake.current.keyChange, false);
    assert.equal(two.handshake.current.keyChange, false);
    server.pages.splice(server.pages.indexOf(one.handshake), 1);
    const fresh = await page({ server, seat: 1, L }); // left and came back: its keys are gone
    await fresh.handshake.update(server.list());
    await settle(fresh.handshake, two.handshake);
    assert.equal(fresh.handshake.current.generation, 2);
    assert.equal(two.handshake.current.keyChange, true, "the one who stayed held the earlier session");
    assert.equal(fresh.handshake.current.keyChange, true, "the one who came back lost a session");
    assert.equal(two.handshake.current.accepted, false);
  });

  test("a reload before the other arrives changes generation without a key change", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const browser = { locks: new FakeLocks(), channels: new FakeChannels() };
    const first = await page({ server, seat: 1, L, browser });
    await first.handshake.update([]);
    server.pages.splice(server.pages.indexOf(first.handshake), 1);
    closeTab(first);
    const reloaded = await page({ server, seat: 1, L, store: first.store, browser });
    await reloaded.handshake.update(server.list());
    const two = await page({ server, seat: 2, L });
    await two.handshake.update(server.list());
    await settle(reloaded.handshake, two.handshake);
    assert.equal(reloaded.handshake.current.generation, 2);
    assert.deepEqual([reloaded.handshake.current.keyChange, two.handshake.current.keyChange], [false, false]);
  });

  test("marks (accepted, verified) reach every tab and say so; a new session starts unverified", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const browser = { locks: new FakeLocks(), channels: new FakeChannels() };
    const tab1 = await page({ server, seat: 1, L, browser });
    await tab1.handshake.update([]);
    const two = await page({ server, seat: 2, L });
    await two.handshake.update(server.list());
    await settle(tab1.handshake, two.handshake);
    const tab2 = await page({ server, seat: 1, L, store: tab1.store, browser });
    await tab2.handshake.update(server.list());
    await tab1.handshake.mark({ verified: true });
    assert.equal(tab1.changes.at(-1).verified, true);
    await settle(tab1.handshake, tab2.handshake);
    assert.equal(tab2.handshake.current.verified, true, "the other tab reads the mark");
    server.pages.splice(server.pages.indexOf(two.handshake), 1);
    const fresh = await page({ server, seat: 2, L });
    await fresh.handshake.update(server.list());
    await settle(fresh.handshake, tab1.handshake, tab2.handshake);
    assert.equal(tab1.handshake.current.generation, 2);
    assert.equal(tab1.handshake.current.verified, false);
    assert.equal(tab1.handshake.current.keyChange, true);
  });

  test("pushes arriving late or out of order still end in one session", async () => {
    const server = new HelloServer();
    server.deliver = false;
    const L = parseLinkKey(newLinkKey());
    const one = await page({ server, seat: 1, L });
    const two = await page({ server, seat: 2, L });
    await Promise.all([one.handshake.update([]), two.handshake.update([])]); // both commit, neither sees the other
    assert.equal(server.log.filter((h) => h.pub).length, 0);
    server.held.reverse();
    await server.flush();
    await settle(one.handshake, two.handshake);
    await server.flush();
    await settle(one.handshake, two.handshake);
    assert.ok(one.handshake.current);
    assert.equal(one.handshake.current.epoch, two.handshake.current.epoch);
  });

  test("a hello that does not verify is reported and nothing is revealed to it", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const one = await page({ server, seat: 1, L });
    await one.handshake.update([]);
    const mallory = await makeHello(await helloKey(parseLinkKey(newLinkKey()), ROOM), ROOM, 2, 1, (await newKeyPair()).pub, { reveal: true });
    await one.handshake.update([mallory]);
    assert.deepEqual(one.problems, [{ kind: "unverifiable", seat: 2, generation: 1 }]);
    assert.equal(one.handshake.current, null);
    assert.ok(server.log.every((h) => !h.pub), "no pub goes out to a substituted hello");
  });

  test("a revealed pub that does not match its commit is refused", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const H = await helloKey(L, ROOM);
    const one = await page({ server, seat: 1, L });
    const real = await makeHello(H, ROOM, 2, 1, (await newKeyPair()).pub, { reveal: true });
    const swapped = { ...real, pub: toBase64Url((await newKeyPair()).pub) };
    await one.handshake.update([swapped]);
    assert.equal(one.problems[0].kind, "unverifiable");
    assert.equal(one.handshake.current, null);
  });

  test("a second commit for the same seat and generation is a conflict, and is not used", async () => {
    const { L, one, two } = await twoPages();
    const epoch = one.handshake.current.epoch;
    const H = await helloKey(L, ROOM);
    const other = await makeHello(H, ROOM, 2, 1, (await newKeyPair()).pub, { reveal: true });
    await one.handshake.update([other]);
    assert.deepEqual(one.problems, [{ kind: "conflict", seat: 2, generation: 1 }]);
    assert.equal(one.handshake.current.epoch, epoch);
    assert.deepEqual(two.problems, []);
  });

  test("a valid hello with a low-order key is refused at key agreement", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const one = await page({ server, seat: 1, L });
    await one.handshake.update([]);
    const lowOrder = await makeHello(await helloKey(L, ROOM), ROOM, 2, 1, new Uint8Array(32), { reveal: true });
    await one.handshake.update([lowOrder]);
    assert.deepEqual(one.problems, [{ kind: "refused", seat: 2, generation: 1 }]);
    assert.equal(one.handshake.current, null);
  });

  test("the other seat at a higher generation gets a fresh pair for it", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const H = await helloKey(L, ROOM);
    const two = await page({ server, seat: 2, L });
    const theirs = await newKeyPair();
    await two.handshake.update([await makeHello(H, ROOM, 1, 4, theirs.pub)]);
    assert.deepEqual(server.log.map((h) => [h.seat, h.generation, "pub" in h]), [[2, 4, true]]);
    await two.handshake.update([await makeHello(H, ROOM, 1, 4, theirs.pub, { reveal: true })]);
    assert.equal(two.handshake.current.generation, 4);
  });

  test("sessionFor an epoch being derived waits for the update under way", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const H = await helloKey(L, ROOM);
    const one = await page({ server, seat: 1, L });
    await one.handshake.update([]);
    const theirs = await newKeyPair();
    const epoch = await epochOf(ROOM, 1, one.store.records.get(ROOM).pairs[1].pub, theirs.pub);
    assert.equal(await one.handshake.sessionFor(epoch), undefined);
    const updating = one.handshake.update([await makeHello(H, ROOM, 2, 1, theirs.pub, { reveal: true })]);
    const session = await one.handshake.sessionFor(epoch);
    assert.equal(session?.epoch, epoch);
    await updating;
  });

  test("a publish that fails is retried by the next update", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    let down = true;
    const publish = server.publisher(1);
    const one = await page({ server, seat: 1, L, publish: (hello) => (down ? Promise.reject(new Error("offline")) : publish(hello)) });
    await assert.rejects(one.handshake.update([]), /offline/);
    down = false;
    await one.handshake.update([]);
    assert.deepEqual(server.log.map((h) => h.generation), [1]);
    assert.equal(Object.keys(one.store.records.get(ROOM).pairs).length, 1, "the same pair, kept, is published");
  });
});

describe("RoomKeys and the keystore", () => {
  const base = { roomId: ROOM, seat: 1, expiresAt: 123 };

  test("sequence numbers are taken once each, per epoch, across pages sharing a store", async () => {
    const store = memoryStore();
    const [a, b] = [new RoomKeys(store, base), new RoomKeys(store, base)];
    const pair = await newKeyPair();
    await a.keepSession({ epoch: "E", generation: 1, sendKey: pair.privateKey, recvKey: pair.privateKey, safety: "000 000" });
    const taken = await Promise.all([a.takeSeq("E"), b.takeSeq("E"), a.takeSeq("E"), b.takeSeq("E")]);
    assert.deepEqual(taken.sort(), [1, 2, 3, 4]);
    await assert.rejects(a.takeSeq("unknown"));
  });

  test("the first pair kept for a generation wins; its private key stays in the page that made it", async () => {
    const store = memoryStore();
    const [first, second] = [await newKeyPair(), await newKeyPair()];
    const keys = new RoomKeys(store, base);
    const otherTab = new RoomKeys(store, base);
    assert.equal(await keys.keepPair(1, first), first);
    assert.deepEqual(await otherTab.keepPair(1, second), { pub: first.pub }, "another tab gets the pub, not a key");
    assert.deepEqual(await keys.pair(1), { pub: first.pub, privateKey: first.privateKey });
    assert.deepEqual(await otherTab.pair(1), { pub: first.pub });
    assert.deepEqual(store.records.get(ROOM).pairs, { 1: { pub: first.pub } });
    assert.equal(await keys.pair(2), undefined);
  });

  test("a record of the other seat (another person in this browser) is not used, and is replaced", async () => {
    const store = memoryStore();
    const pair = await newKeyPair();
    await new RoomKeys(store, { ...base, seat: 2 }).keepPair(1, pair);
    const keys = new RoomKeys(store, base);
    assert.equal(await keys.pair(1), undefined);
    await keys.keepPair(1, await newKeyPair());
    assert.equal(store.records.get(ROOM).seat, 1);
    assert.deepEqual(Object.keys(store.records.get(ROOM)), ["roomId", "seat", "expiresAt", "pairs", "sessions"]);
  });

  test("the record carries the room's expiry, and records past it are purged", async () => {
    const store = memoryKeystore();
    await new RoomKeys(store, { ...base, expiresAt: 1000 }).save();
    await new RoomKeys(store, { ...base, roomId: "other", expiresAt: 3000 }).save();
    assert.equal(store.records.get(ROOM).expiresAt, 1000);
    await store.purge(2000);
    assert.deepEqual([...store.records.keys()], ["other"]);
    await store.remove("other");
    assert.equal(store.records.size, 0);
  });

  test("what rests never outlives the longest room, and no later answer moves its expiry later", async () => {
    const store = memoryKeystore();
    const now = () => 1_000_000;
    // A server that claims a year left: the record still goes within a day.
    await new RoomKeys(store, { ...base, expiresAt: now() + 365 * 86_400_000 }, { now }).save();
    assert.equal(store.records.get(ROOM).expiresAt, now() + MAX_ROOM_LIFE_S * 1000);
    // A second tab (or a reload) told of more time left does not extend it; less time shortens it.
    await new RoomKeys(store, { ...base, expiresAt: now() + 5_000 }, { now }).save();
    await new RoomKeys(store, { ...base, expiresAt: now() + 60_000 }, { now }).save();
    assert.equal(store.records.get(ROOM).expiresAt, now() + 5_000);
    assert.equal(MAX_ROOM_LIFE_S, 86_400);
  });
});

describe("grinding the safety code across generations", { timeout: 10_000 }, () => {
  test("a page follows at most MAX_ABANDONED generations the other leaves unrevealed, then stops and says so", async () => {
    const server = new HelloServer();
    const L = parseLinkKey(newLinkKey());
    const H = await helloKey(L, ROOM);
    const one = await page({ server, seat: 1, L });
    await one.handshake.update([]);
    // The attacker (server and link) commits to a key for each generation, sees the page's reveal,
    // and never reveals its own when the codes would not match: it moves on to the next generation.
    for (let g = 1; g <= MAX_ABANDONED + 2; g += 1) {
      await one.handshake.update([await makeHello(H, ROOM, 2, g, (await newKeyPair()).pub)]);
    }
    const revealed = server.log.filter((h) => h.seat === 1 && h.pub).map((h) => h.generation);
    assert.deepEqual(revealed, [1, 2, 3], "one reveal per generation, and no more after the limit");
    assert.ok(one.problems.some((p) => p.kind === "abandoned"));
    // Each unfinished one was shown as it happened (generations 1 and 2), before the stop.
    assert.deepEqual(one.problems.filter((p) => p.kind === "unfinished").map((p) => p.generation), [1, 2]);
    assert.equal(one.handshake.current, null);
    assert.equal(one.keys.privateKeys.size, 0, "abandoned generations' private keys are dropped; none is made past the limit");
  });
});
