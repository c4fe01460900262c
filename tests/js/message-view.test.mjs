// message-view.js: what a bubble says when its send failed.
import assert from "node:assert/strict";
import { test } from "node:test";

import { failureText } from "../../static_site/js/message-view.js";

const failure = (status) => ({ status });

test("a message the server refused says why, online or not", () => {
  for (const online of [true, false]) {
    for (const status of [400, 413, 422]) assert.equal(failureText(failure(status), online), "Not sent: too long or invalid.");
    assert.equal(failureText(failure(429), online), "Not sent: slow down a moment.");
  }
});

test("any other failure says offline when the browser is, else only that it was not sent", () => {
  assert.equal(failureText(failure(0), false), "Offline: sends when you're back.");
  assert.equal(failureText(failure(503), false), "Offline: sends when you're back.");
  assert.equal(failureText(failure(0), true), "Not sent.");
  assert.equal(failureText(failure(503), true), "Not sent.");
});
