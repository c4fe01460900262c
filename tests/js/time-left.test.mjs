// time-left.js: a room's time left in words.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clockLeft, shortLeft, wordsLeft } from "../../static_site/js/time-left.js";

test("the chip rounds minutes up and counts seconds in the last minute", () => {
  assert.equal(shortLeft(600), "10 min");
  assert.equal(shortLeft(541), "10 min");
  assert.equal(shortLeft(540), "9 min");
  assert.equal(shortLeft(61), "2 min");
  assert.equal(shortLeft(60), "1 min");
  assert.equal(shortLeft(59), "59 s");
  assert.equal(shortLeft(0), "0 s");
  assert.equal(shortLeft(-3), "0 s");
});

test("sentences say minutes and seconds, singular and plural", () => {
  assert.equal(wordsLeft(600), "10 minutes");
  assert.equal(wordsLeft(60), "1 minute");
  assert.equal(wordsLeft(45), "45 seconds");
  assert.equal(wordsLeft(1), "1 second");
  assert.equal(wordsLeft(0.2), "1 second");
});

test("the tooltip is exact", () => {
  assert.equal(clockLeft(599), "9:59");
  assert.equal(clockLeft(5), "0:05");
  assert.equal(clockLeft(3723), "1:02:03");
});
