// notify.js: the tab's title counts what came while the tab was in the background.
import assert from "node:assert/strict";
import { test } from "node:test";

import { UnreadTitle } from "../../static_site/js/notify.js";

/** The part of a document UnreadTitle uses; show() and hide() switch tabs. */
function fakeDocument() {
  const listeners = [];
  const doc = {
    title: "Private room · PrivoChat",
    visibilityState: "visible",
    addEventListener: (type, listener) => listeners.push([type, listener]),
    switchTo(state) {
      doc.visibilityState = state;
      for (const [type, listener] of listeners) if (type === "visibilitychange") listener();
    },
  };
  return doc;
}

test("a visible tab counts nothing", () => {
  const doc = fakeDocument();
  const unread = new UnreadTitle(doc);
  unread.count();
  assert.equal(doc.title, "Private room · PrivoChat");
});

test("a hidden tab counts in its title, and seeing it again clears the count", () => {
  const doc = fakeDocument();
  const unread = new UnreadTitle(doc);
  doc.switchTo("hidden");
  unread.count();
  unread.count();
  assert.equal(doc.title, "(2) Private room · PrivoChat");
  doc.switchTo("visible");
  assert.equal(doc.title, "Private room · PrivoChat");
  doc.switchTo("hidden");
  unread.count();
  assert.equal(doc.title, "(1) Private room · PrivoChat");
});
