// conversation.js unsent(): what the page hands the lobby when the room expires under it —
// own messages not yet stored (waiting for the other person, or failed), in the order written.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Conversation } from "../../static_site/js/conversation.js";
import { ROOM, recordingView } from "./helpers.mjs";

/** A session as the handshake makes one: an epoch and one AES-GCM key per direction. */
async function session() {
  const key = () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  return { epoch: "AAAAAAAAAAA", generation: 1, sendKey: await key(), recvKey: await key(), safety: "123 456" };
}

function conversation({ session = null, send }) {
  return new Conversation({
    roomId: ROOM,
    seat: 1,
    name: () => "Alice",
    api: { send, list: async () => ({ messages: [], hellos: [], more: false }) },
    keys: { current: () => session, sessionFor: async () => session, takeSeq: async () => 1, lostEarlier: async () => false },
    view: recordingView(),
  });
}

test("messages waiting for the other person are unsent, in order", () => {
  const talk = conversation({ send: async () => assert.fail("nothing is sent without a session") });
  talk.write("first");
  talk.write("second");
  assert.deepEqual(talk.unsent(), ["first", "second"]);
});

test("a failed send stays unsent; a stored one does not", async () => {
  let fail = true;
  let stored = 0;
  const talk = conversation({
    session: await session(),
    send: async ({ text }) => {
      if (fail) throw Object.assign(new Error("offline"), { status: 0 });
      stored += 1;
      return { message: { id: `m${stored}`, seat: 1, text, timestamp: "2026-01-01T00:00:00Z" } };
    },
  });
  talk.write("lost on the train");
  await talk.idle();
  assert.deepEqual(talk.unsent(), ["lost on the train"]);
  fail = false;
  talk.retryFailed();
  await talk.idle();
  assert.deepEqual(talk.unsent(), []);
  assert.equal(stored, 1);
});
