// message-view.js: what a bubble says when its send did not go through, and whether it will
// go by itself (pending: neutral) or needs the person (failed: red).
import assert from "node:assert/strict";
import { test } from "node:test";

import { deliveryOf } from "../../static_site/js/message-view.js";

const failure = (status) => ({ status });

test("a message the server refused for good has failed, online or not, and says why", () => {
  for (const status of [400, 413, 422]) {
    assert.deepEqual(deliveryOf(failure(status), true), { status: "failed", text: "Not sent: too long or invalid." });
    assert.equal(deliveryOf(failure(status), false).status, "failed");
  }
  assert.deepEqual(deliveryOf(failure(409), true), { status: "failed", text: "Not sent." });
  assert.deepEqual(deliveryOf(failure(403), true), { status: "failed", text: "Not sent." });
});

test("offline, no server, or slow down: pending, saying it sends by itself", () => {
  for (const status of [0, 503, 429]) {
    const { status: state, text } = deliveryOf(failure(status), false);
    assert.equal(state, "pending");
    assert.match(text, /sends by itself when you're back online/);
  }
  for (const status of [0, 500, 503, 401]) {
    assert.deepEqual(deliveryOf(failure(status), true), { status: "pending", text: "Can't reach the server: sends by itself when it answers." });
  }
  assert.match(deliveryOf(failure(429), true).text, /^Waiting a moment .* sends by itself\.$/);
});
