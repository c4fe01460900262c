// presence.js: who is here, said in the chip and as "joined", "left" and "is back" lines.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Presence, Typing } from "../../static_site/js/presence.js";
import { fakeTimers } from "./helpers.mjs";

/** A Presence whose chip, log lines and "full" calls are recorded. */
function presence({ online = true, open = true, name = "Ada" } = {}) {
  const timers = fakeTimers();
  const chip = [];
  const lines = [];
  let full = 0;
  const state = { open, name };
  const p = new Presence({
    show: (kind, text) => chip.push(`${kind}:${text}`),
    announce: (line, kind) => lines.push(`${kind}:${line}`),
    full: () => { full += 1; },
    isOpen: () => state.open,
    who: () => state.name,
    online,
    timers,
  });
  return { p, timers, chip, lines, state, get full() { return full; } };
}

test("the chip says who is here once the server has counted and the socket is open", () => {
  const t = presence({ open: false });
  t.p.render();
  t.p.count(1, false);
  t.state.open = true;
  t.p.count(1, false);
  t.p.count(2, false);
  assert.deepEqual(t.chip, ["connecting:Connecting…", "connecting:Connecting…", "alone:1 of 2 here", "both:Both here"]);
});

test("offline wins over any count, and the socket's own states show only while online", () => {
  const t = presence({ online: false });
  t.p.count(2, false);
  t.p.socketState("reconnecting");
  t.p.setOnline(true);
  t.p.socketState("reconnecting");
  t.p.socketState("connecting");
  assert.deepEqual(t.chip, ["offline:Offline", "both:Both here", "offline:Reconnecting…", "connecting:Connecting…"]);
});

test("two here makes the room full; the first count says nothing in the log", () => {
  const t = presence();
  t.p.count(1, false);
  assert.equal(t.full, 0);
  t.p.count(2, false);
  assert.equal(t.full, 1);
  assert.deepEqual(t.lines, []);
});

test("someone arriving by a push joins the first time and is back after that", () => {
  const t = presence();
  t.p.count(1, false);
  t.p.count(2, true);
  t.p.count(1, true);
  t.timers.advance(6000);
  t.p.count(2, true);
  assert.deepEqual(t.lines, ["joined:Ada joined", "left:Ada left", "back:Ada is back"]);
});

test("someone already here at the first count is back, not joined, when they return", () => {
  const t = presence();
  t.p.count(2, false);
  t.p.count(1, true);
  t.timers.advance(6000);
  t.p.count(2, true);
  assert.deepEqual(t.lines, ["left:Ada left", "back:Ada is back"]);
});

test("a departure is said only after it lasts 6 s, with the name known then", () => {
  const t = presence();
  t.p.count(2, false);
  t.p.count(1, true);
  t.timers.advance(5999);
  assert.deepEqual(t.lines, []);
  t.state.name = "Grace";
  t.timers.advance(1);
  assert.deepEqual(t.lines, ["left:Grace left"]);
});

test("a reload (gone and back within 6 s) says nothing", () => {
  const t = presence();
  t.p.count(2, false);
  t.p.count(1, true);
  t.timers.advance(3000);
  t.p.count(2, true);
  t.timers.advance(60000);
  assert.deepEqual(t.lines, []);
  assert.equal(t.timers.pending, 0);
});

test("pongs (not pushed) change the chip but never the log", () => {
  const t = presence();
  t.p.count(2, false);
  t.p.count(1, false);
  t.timers.advance(60000);
  t.p.count(2, false);
  assert.deepEqual(t.lines, []);
  assert.equal(t.chip.at(-2), "alone:1 of 2 here");
});

test("typing shows for 5 s after the last signal (signals come every 4 s), and hides at once when asked", () => {
  const timers = fakeTimers();
  const node = { textContent: "" };
  const typing = new Typing(node, () => "Ada", timers);
  typing.show();
  assert.equal(node.textContent, "Ada is typing…");
  timers.advance(4000);
  typing.show();
  timers.advance(4999);
  assert.equal(node.textContent, "Ada is typing…");
  timers.advance(1);
  assert.equal(node.textContent, "");
  typing.show();
  typing.hide();
  assert.equal(node.textContent, "");
  assert.equal(timers.pending, 0);
});
