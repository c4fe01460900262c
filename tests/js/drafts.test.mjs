// drafts.js: the draft of a room kept in this tab, and what was not sent at expiry.
import assert from "node:assert/strict";
import { test } from "node:test";

import { draftKey, keepUnsent, loadDraft, saveDraft, takeKept, tabStorage } from "../../static_site/js/drafts.js";

/** The part of the Storage interface the drafts use, over a Map. */
function fakeStorage() {
  const items = new Map();
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

/** A browser that blocks storage: every call throws, as Chromium's SecurityError does. */
const blocked = {
  getItem() { throw new Error("blocked"); },
  setItem() { throw new Error("blocked"); },
  removeItem() { throw new Error("blocked"); },
};

test("a room's draft is kept under its own key, and an empty text removes it", () => {
  const storage = fakeStorage();
  const one = draftKey("/room/aaaaaa");
  const two = draftKey("/room/bbbbbb");
  assert.notEqual(one, two);
  saveDraft(storage, one, "half a thought");
  assert.equal(loadDraft(storage, one), "half a thought");
  assert.equal(loadDraft(storage, two), "");
  saveDraft(storage, one, "");
  assert.equal(storage.items.size, 0);
  assert.equal(loadDraft(storage, one), "");
});

test("blocked or missing storage loses the draft and throws nothing", () => {
  for (const storage of [blocked, null]) {
    assert.doesNotThrow(() => saveDraft(storage, "k", "text"));
    assert.equal(loadDraft(storage, "k"), "");
    assert.doesNotThrow(() => keepUnsent(storage, ["text"]));
    assert.deepEqual(takeKept(storage), []);
  }
});

test("what was not sent is kept without blank texts, and taken once", () => {
  const storage = fakeStorage();
  keepUnsent(storage, ["first", "  \n", "second", ""]);
  assert.deepEqual(takeKept(storage), ["first", "second"]);
  assert.deepEqual(takeKept(storage), []);
});

test("only blank texts keep nothing, and do not replace what was kept", () => {
  const storage = fakeStorage();
  keepUnsent(storage, ["kept"]);
  keepUnsent(storage, [" ", ""]);
  assert.deepEqual(takeKept(storage), ["kept"]);
});

test("a kept value that is not a list of texts shows nothing", () => {
  const storage = fakeStorage();
  keepUnsent(storage, ["x"]);
  const [key] = storage.items.keys();
  storage.setItem(key, "{not json");
  assert.deepEqual(takeKept(storage), []);
  storage.setItem(key, '{"a": 1}');
  assert.deepEqual(takeKept(storage), []);
  assert.equal(storage.items.size, 0);
});

test("tabStorage is the tab's sessionStorage, or null where reading it throws", () => {
  const storage = fakeStorage();
  try {
    Object.defineProperty(globalThis, "sessionStorage", { configurable: true, get: () => storage });
    assert.equal(tabStorage(), storage);
    Object.defineProperty(globalThis, "sessionStorage", {
      configurable: true,
      get() { throw new Error("SecurityError: access is denied for this document"); },
    });
    assert.equal(tabStorage(), null);
  } finally {
    delete globalThis.sessionStorage;
  }
});
