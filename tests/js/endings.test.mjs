// endings.js: how a room ends for this browser, where a refused join leads, and what the lobby says.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ENDINGS, afterRefusedJoin, endingOf, lobbyUrl, vanished } from "../../static_site/js/endings.js";

test("every ending the room page leaves with is one the lobby finds again, with its notice", () => {
  for (const ending of Object.keys(ENDINGS)) {
    const url = new URL(lobbyUrl(ending), "https://chat.example");
    assert.equal(url.pathname, "/");
    const found = endingOf(url.search);
    assert.equal(found?.ending, ending);
    assert.ok(["danger", "info", "warn"].includes(found.tone), ending);
    assert.ok(found.title.endsWith(".") && found.detail.length > 10, ending);
  }
  assert.equal(new Set(Object.values(ENDINGS).map(([query]) => query)).size, Object.keys(ENDINGS).length);
});

test("the lobby shows no notice for a query that names no ending", () => {
  for (const search of ["", "?", "?expired=2", "?destroyed=me", "?error=<b>x</b>", "?left"]) {
    assert.equal(endingOf(search), null, search);
  }
  assert.equal(endingOf("?utm_source=mail&error=room-full").ending, "full");
});

test("a room that vanishes in its last seconds expired; earlier, it was destroyed, by us or the other person", () => {
  assert.equal(vanished({ msLeft: 4999, destroying: false }), "expired");
  assert.equal(vanished({ msLeft: -20, destroying: true }), "expired");
  assert.equal(vanished({ msLeft: 5000, destroying: false }), "destroyed");
  assert.equal(vanished({ msLeft: 300_000, destroying: true }), "destroyedByYou");
});

test("a refused first join: the key screen for a wrong key, the lobby for a missing, full or malformed room", () => {
  assert.deepEqual(
    [403, 404, 409, 400, 429, 500, 503, undefined].map((status) => afterRefusedJoin(status)),
    ["wrong-key", "notFound", "full", "badLink", null, null, null, null],
  );
});

test("a refused rejoin: the room vanished for a 404, and nothing but a wrong key or a full room moves the page", () => {
  assert.deepEqual(
    [403, 404, 409, 400, 429, 503].map((status) => afterRefusedJoin(status, { rejoining: true })),
    ["wrong-key", "vanished", "full", null, null, null],
  );
});

test("every ending the page can be led to is one the lobby has a notice for", () => {
  const led = new Set();
  for (const status of [400, 401, 403, 404, 409, 429, 500, 503]) {
    for (const rejoining of [false, true]) led.add(afterRefusedJoin(status, { rejoining }));
  }
  for (const msLeft of [0, 60_000]) {
    for (const destroying of [false, true]) led.add(vanished({ msLeft, destroying }));
  }
  for (const next of led) {
    if (next === null || next === "wrong-key" || next === "vanished") continue;
    assert.ok(next in ENDINGS, next);
  }
});
