// composer.js: the counter and limit note, what may be sent, Enter, and the typing signal.
import assert from "node:assert/strict";
import { test } from "node:test";

import { TypingSignal, enterSends, limitState, sendable } from "../../static_site/js/composer.js";
import { TEXT_LIMIT } from "../../static_site/js/protocol.js";

test("the counter shows from 800 characters, counts down to the limit and then counts what is over", () => {
  assert.deepEqual(
    [0, 799, 800, TEXT_LIMIT, TEXT_LIMIT + 1, TEXT_LIMIT + 25].map((n) => limitState(n).counter),
    ["", "", "200 left", "0 left", "1 over", "25 over"],
  );
  assert.deepEqual([799, 800, TEXT_LIMIT, TEXT_LIMIT + 1].map((n) => limitState(n).over), [false, false, false, true]);
});

test("the limit note shows with the counter, and its words describe the box even while hidden", () => {
  const quiet = limitState(10);
  assert.equal(quiet.shown, false);
  assert.equal(quiet.note, `A message holds up to ${TEXT_LIMIT} characters.`);
  assert.equal(limitState(800).shown, true);
  assert.equal(
    limitState(TEXT_LIMIT + 3).note,
    `3 characters over the ${TEXT_LIMIT}-character limit: shorten it to send.`,
  );
});

test("a blank text or one over the limit is not sent", () => {
  assert.equal(sendable(""), false);
  assert.equal(sendable(" \n\t "), false);
  assert.equal(sendable("hi"), true);
  assert.equal(sendable("x".repeat(TEXT_LIMIT)), true);
  assert.equal(sendable("x".repeat(TEXT_LIMIT + 1)), false);
});

test("Enter sends, but not with Shift, not inside an IME composition, and not where the button sends", () => {
  const enter = { key: "Enter", shiftKey: false, isComposing: false };
  assert.equal(enterSends(enter, true), true);
  assert.equal(enterSends({ ...enter, shiftKey: true }, true), false);
  assert.equal(enterSends({ ...enter, isComposing: true }, true), false);
  assert.equal(enterSends({ ...enter, key: "a" }, true), false);
  assert.equal(enterSends(enter, false), false);
});

test("typing is signalled on input with text, at most once per four seconds, and anew after a send", () => {
  const clock = { now: 0 };
  const signals = [];
  const typing = new TypingSignal(() => signals.push(clock.now) > 0, () => clock.now);
  typing.input("h");
  clock.now = 2000;
  typing.input("he");
  clock.now = 4000;
  typing.input("hel");
  clock.now = 4001;
  typing.input("hell");
  typing.input("");
  clock.now = 4500;
  typing.sent();
  typing.input("n");
  assert.deepEqual(signals, [0, 4001, 4500]);
});

test("a typing signal that could not go (socket closed) is tried on the next input", () => {
  const clock = { now: 0 };
  let open = false;
  const signals = [];
  const typing = new TypingSignal(() => open && signals.push(clock.now) > 0, () => clock.now);
  typing.input("h");
  clock.now = 100;
  open = true;
  typing.input("hi");
  assert.deepEqual(signals, [100]);
});
