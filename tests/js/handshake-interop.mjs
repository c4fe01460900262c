// The browser's hello state machine (static_site/js/handshake.js) on a scripted sequence, for
// tests/support/test_handshake_interop.py, which runs the same script on the Python twin
// (tests/support/handshake_rules.py) and compares the decisions. Not a test file of its own
// (`node --test tests/js/` runs *.test.mjs only).
//
// stdin: one JSON script {roomId, link, steps: [...]}; a step is one of
//   {page, do: "open", seat}         a browser with empty storage (also after Leave: "leave")
//   {page, do: "update", hellos}     hellos: {server: true} (the relay's last hello per seat),
//                                    {forge: {seat, generation, key, reveal, zero?, foreign?}}
//                                    (the server's own keys, by name; zero: an all-zero pub;
//                                    foreign: MACed under another link's key)
//   {pages, do: "settle"}            honest relaying, rounds of updates until nothing is published
//   {page, do: "reload"}             the page's private keys are gone, storage stays
//   {page, do: "leave"}              storage is gone too
//   {page, do: "mark", marks}        {accepted: true} or {verified: true}
// stdout: one JSON array, a record per update (and per reload, leave, mark): what was
// published ([generation, revealed]), the session (code as shown), canSeal, new problems, the
// generations counted abandoned and those whose private key this page holds.
import { Handshake } from "../../static_site/js/handshake.js";
import { RoomKeys } from "../../static_site/js/room-keys.js";
import { memoryKeystore } from "../../static_site/js/keystore.js";
import * as P from "../../static_site/js/protocol.js";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => { text += chunk; });
  process.stdin.on("end", () => resolve(text));
});
const { roomId, link, steps } = JSON.parse(input);
const H = await P.helloKey(P.parseLinkKey(link), roomId);
const foreignH = await P.helloKey(P.parseLinkKey(P.newLinkKey()), roomId);
const relay = new Map(); // seat -> last hello published
const pages = new Map(); // name -> {seat, store, handshake, out, problems, reported}
const forged = new Map(); // key name -> pub of the server's own pair

function openPage(name, seat, store) {
  const page = { seat, store, out: [], problems: [], reported: 0 };
  const keys = new RoomKeys(store, { roomId, seat, expiresAt: Date.now() + 600_000 }, { locks: null, channel: null });
  page.handshake = new Handshake({
    roomId, seat, keys, helloKey: H,
    publish: async (hello) => {
      const stored = { ...hello, seat };
      relay.set(seat, stored);
      page.out.push(stored);
      return stored;
    },
    onProblem: ({ kind, seat: s, generation }) => page.problems.push([kind, s ?? null, generation ?? null]),
  });
  pages.set(name, page);
  return page;
}

async function hello(ref) {
  if (ref.server) return [...relay.values()];
  const { seat, generation, key, reveal = false, zero = false, foreign = false } = ref.forge;
  if (!forged.has(key)) forged.set(key, zero ? new Uint8Array(32) : (await P.newKeyPair()).pub);
  return [await P.makeHello(foreign ? foreignH : H, roomId, seat, generation, forged.get(key), { reveal })];
}

function state(name, extra = {}) {
  const page = pages.get(name);
  const s = page.handshake.current;
  const record = {
    page: name,
    ...extra,
    session: s ? { generation: s.generation, keyChange: Boolean(s.keyChange), accepted: Boolean(s.accepted), verified: Boolean(s.verified), code: s.safety } : null,
    canSeal: Boolean(s) && (!s.keyChange || s.accepted),
    problems: page.problems.slice(page.reported),
    abandoned: [...page.handshake.abandoned].sort((a, b) => a - b),
    privateKeys: [...page.handshake.keys.privateKeys.keys()].sort((a, b) => a - b),
  };
  page.reported = page.problems.length;
  return record;
}

async function update(name, hellos) {
  const page = pages.get(name);
  page.out = [];
  await page.handshake.update(hellos);
  const published = page.out.map((h) => [h.generation, "pub" in h]);
  return state(name, { do: "update", published });
}

const records = [];
for (const step of steps) {
  if (step.do === "open") {
    openPage(step.page, step.seat, memoryKeystore());
    records.push(state(step.page, { do: "open" }));
  } else if (step.do === "update") {
    const hellos = [];
    for (const ref of step.hellos) hellos.push(...(await hello(ref)));
    records.push(await update(step.page, hellos));
  } else if (step.do === "settle") {
    for (let round = 0; round < 20; round += 1) {
      let published = false;
      for (const name of step.pages) {
        const record = await update(name, [...relay.values()]);
        records.push(record);
        published ||= record.published.length > 0;
      }
      if (!published) break;
    }
  } else if (step.do === "reload" || step.do === "leave") {
    const old = pages.get(step.page);
    const page = openPage(step.page, old.seat, step.do === "reload" ? old.store : memoryKeystore());
    page.problems = old.problems;
    page.reported = old.reported;
    records.push(state(step.page, { do: step.do }));
  } else if (step.do === "mark") {
    await pages.get(step.page).handshake.mark(step.marks);
    records.push(state(step.page, { do: "mark" }));
  } else {
    throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}
process.stdout.write(JSON.stringify(records) + "\n");
