// capabilities.js: what a browser lacks for a room, named before anything is joined.
import assert from "node:assert/strict";
import { test } from "node:test";

import { WORKING_BROWSERS, missingForRoom, unsupportedText } from "../../static_site/js/capabilities.js";

function WebSocket() {}

test("a browser with X25519 and WebSocket lacks nothing", async () => {
  assert.deepEqual(await missingForRoom({ crypto: globalThis.crypto, WebSocket }), []);
});

test("WebCrypto without X25519, no WebCrypto, no WebSocket: each named", async () => {
  const refuse = async () => { throw new DOMException("Unrecognized name", "NotSupportedError"); };
  const noX25519 = { subtle: { generateKey: refuse } };
  assert.deepEqual(await missingForRoom({ crypto: noX25519, WebSocket, generate: refuse }), ["x25519"]);
  assert.deepEqual(await missingForRoom({ crypto: {}, WebSocket: undefined }), ["webcrypto", "websocket"]);
});

test("an X25519 that makes keys but cannot agree counts as missing", async () => {
  const subtle = globalThis.crypto.subtle;
  const broken = { subtle: { deriveBits: async () => { throw new Error("no"); } } };
  assert.deepEqual(await missingForRoom({ crypto: broken, WebSocket }), ["x25519"]);
});

test("the sentence says what is missing and names browsers that work", () => {
  const text = unsupportedText(["x25519"]);
  assert.match(text, /X25519/);
  assert.ok(text.endsWith(`${WORKING_BROWSERS()}.`));
  assert.match(WORKING_BROWSERS(), /Safari 17/);
});
