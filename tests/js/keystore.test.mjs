// keystore.js: a storage failure moves the keystore to memory, once, with what it knew; never a rejection.
import assert from "node:assert/strict";
import { test } from "node:test";

import { memoryKeystore, withFallback } from "../../static_site/js/keystore.js";

/** A keystore that works until `broken` is set, then rejects every call as WebKit's IndexedDB can. */
function flakyStore() {
  const inner = memoryKeystore();
  const store = { broken: false };
  const guard = (name) => async (...args) => {
    if (store.broken) throw new DOMException("Failed to store record in an IDBObjectStore", "DataError");
    return inner[name](...args);
  };
  for (const name of ["get", "update", "remove", "purge"]) store[name] = guard(name);
  store.inner = inner;
  return store;
}

test("a failure moves to memory with the last record, says so once, and never rejects", async () => {
  const primary = flakyStore();
  const fallbacks = [];
  const store = withFallback(primary, (error) => fallbacks.push(error.name));
  await store.update("room", () => ({ record: { roomId: "room", n: 1 }, result: null }));
  primary.broken = true;
  const result = await store.update("room", (found) => ({ record: { ...found, n: found.n + 1 }, result: found.n + 1 }));
  assert.equal(result, 2, "the change runs once, on the record as last committed");
  assert.deepEqual(await store.get("room"), { roomId: "room", n: 2 });
  await store.update("room", (found) => ({ record: { ...found, n: 3 } }));
  await store.purge(0);
  assert.deepEqual(fallbacks, ["DataError"], "said once");
  primary.broken = false;
  assert.equal((await store.get("room"))?.n, undefined, "memory for good: purged there, not read back from storage");
  assert.equal((await primary.inner.get("room")).n, 1, "storage kept what it had committed");
});

test("without failures it is the storage itself", async () => {
  const primary = flakyStore();
  const store = withFallback(primary, () => assert.fail("no fallback"));
  await store.update("room", () => ({ record: { roomId: "room", expiresAt: 5 } }));
  assert.deepEqual(await primary.inner.get("room"), { roomId: "room", expiresAt: 5 });
  await store.remove("room");
  assert.equal(await primary.inner.get("room"), undefined);
});
