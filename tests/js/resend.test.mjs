// resend.js: pending sends are tried again by themselves, after a growing pause.
import assert from "node:assert/strict";
import { test } from "node:test";

import { FIRST_PAUSE_MS, LONGEST_PAUSE_MS, Resender } from "../../static_site/js/resend.js";

function fakeTimers() {
  const timers = { next: 1, due: new Map() };
  timers.setTimeout = (fn, ms) => { const id = timers.next++; timers.due.set(id, { fn, ms }); return id; };
  timers.clearTimeout = (id) => timers.due.delete(id);
  timers.fire = () => { const [[id, { fn, ms }]] = timers.due; timers.due.delete(id); fn(); return ms; };
  return timers;
}

test("a pending send is tried again once per pause, the pause doubling up to 30 s", () => {
  const timers = fakeTimers();
  let retries = 0;
  const resender = new Resender({ retry: () => { retries += 1; }, online: () => true, timers });
  const pauses = [];
  for (let i = 0; i < 6; i += 1) {
    resender.pending();
    resender.pending(); // two pending bubbles: one timer
    assert.equal(timers.due.size, 1);
    pauses.push(timers.fire());
  }
  assert.deepEqual(pauses, [FIRST_PAUSE_MS, 4000, 8000, 16000, LONGEST_PAUSE_MS, LONGEST_PAUSE_MS]);
  assert.equal(retries, 6);
  resender.sent();
  resender.pending();
  assert.equal(timers.fire(), FIRST_PAUSE_MS);
});

test("offline, nothing is scheduled (the online event resends); stop clears the timer", () => {
  const timers = fakeTimers();
  let online = false;
  const resender = new Resender({ retry: () => {}, online: () => online, timers });
  resender.pending();
  assert.equal(timers.due.size, 0);
  online = true;
  resender.pending();
  assert.equal(timers.due.size, 1);
  resender.stop();
  assert.equal(timers.due.size, 0);
});
