// countdown.js: the room's time left, the one-minute warning and the end.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Countdown } from "../../static_site/js/countdown.js";

/** A Countdown on a clock the test moves; what it rendered, warned and ended is recorded. */
function countdown() {
  const clock = { now: 1_000_000 };
  const said = [];
  const c = new Countdown({
    render: (left) => said.push(left),
    warn: () => said.push("warn"),
    end: () => said.push("end"),
    now: () => clock.now,
  });
  return { c, clock, said };
}

test("the seconds left are counted from the server's ttl and rounded up", () => {
  const { c, clock, said } = countdown();
  c.set(600);
  c.tick();
  clock.now += 1;
  c.tick();
  clock.now += 1000;
  c.tick();
  assert.deepEqual(said, [600, 600, 599]);
  assert.equal(c.msLeft(), 598_999);
});

test("the warning comes once, in the last minute", () => {
  const { c, clock, said } = countdown();
  c.set(61);
  c.tick();
  clock.now += 1000;
  c.tick();
  clock.now += 1000;
  c.tick();
  assert.deepEqual(said, [61, 60, "warn", 59]);
});

test("the end comes at zero, on each tick there, without a warning after it", () => {
  const { c, clock, said } = countdown();
  c.set(2);
  clock.now += 5000;
  c.tick();
  c.tick();
  assert.deepEqual(said, [0, "end", 0, "end"]);
});

test("a resync sets the deadline from the server's answer, and a failure goes to onError", async () => {
  const { c, said } = countdown();
  c.set(600);
  await c.resync(async () => 120, () => assert.fail("no error"));
  assert.deepEqual(said, [120]);
  assert.equal(c.msLeft(), 120_000);
  const errors = [];
  const refused = Object.assign(new Error("gone"), { status: 404 });
  await c.resync(async () => { throw refused; }, (error) => errors.push(error));
  assert.deepEqual(errors, [refused]);
  assert.equal(c.msLeft(), 120_000);
});

test("start ticks every second and never asks the server again (the end is fixed at creation)", (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const { c, said } = countdown();
  let asked = 0;
  c.set(600);
  c.start(async () => { asked += 1; return 600; }, () => assert.fail("no error"));
  t.mock.timers.tick(10 * 60_000);
  assert.equal(asked, 0);
  assert.equal(said.length, 1 + 600);
});
