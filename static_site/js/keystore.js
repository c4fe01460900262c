// Keys at rest (docs/protocol.md): IndexedDB "privochat", store "rooms", one record per room,
// {roomId, seat, expiresAt, pairs: {g: {pub}}, sessions: {epoch: {generation, sendKey, recvKey, safety, nextSeq}}}.
// The only CryptoKeys at rest are AES-GCM session keys, stored as they are (structured clone):
// non-extractable, they never exist as bytes here. Every engine can store those; WebKit cannot
// store an X25519 private key at all, and none is ever written (room-keys.js keeps them in memory).

const DB_NAME = "privochat";
const STORE = "rooms";
// A transaction that takes longer is given up (and the keystore moves to memory, withFallback):
// a page must never wait on its storage for good.
const TRANSACTION_MS = 10_000;
let opening;
const running = new Set(); // this page's transactions not yet ended

function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "roomId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

// A page that goes (reload, navigation, the back-forward cache) must not leave a transaction
// waiting for script that no longer runs: WebKit then holds every later transaction on the store
// behind it, and the next page of this site never gets past its keystore (seen under load). So its
// unfinished transactions are aborted, and a page restored from the cache opens the database anew.
globalThis.addEventListener?.("pagehide", () => {
  for (const tx of running) abortQuietly(tx);
  opening?.then((db) => db.close(), () => {});
  opening = undefined;
});

/** Aborts a transaction unless it already ended (abort() then throws InvalidStateError). */
function abortQuietly(tx) {
  try {
    tx.abort();
  } catch {
    // it committed or aborted meanwhile: nothing to undo
  }
}

/**
 * Runs work(store, done, tx) in one transaction; resolves with what work passed to done() last,
 * once committed. Rejects when it aborts, fails, or outlasts TRANSACTION_MS.
 */
async function transaction(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    running.add(tx);
    let result;
    const timer = setTimeout(() => abortQuietly(tx), TRANSACTION_MS);
    const end = (settle) => () => {
      clearTimeout(timer);
      running.delete(tx);
      settle();
    };
    tx.oncomplete = end(() => resolve(result));
    tx.onabort = end(() => reject(tx.error ?? new DOMException("The keystore gave up a transaction", "AbortError")));
    work(tx.objectStore(STORE), (value) => { result = value; }, tx);
  });
}

const indexedStore = {
  get: (roomId) => transaction("readonly", (store, done) => {
    store.get(roomId).onsuccess = (event) => done(event.target.result);
  }),

  /**
   * change(record | undefined) -> {record?, result}, run inside one read-write transaction:
   * the record it returns is written before any other tab can read the old one.
   */
  update: (roomId, change) => transaction("readwrite", (store, done) => {
    store.get(roomId).onsuccess = (event) => {
      const { record, result } = change(event.target.result);
      if (record) store.put(record);
      done(result);
    };
  }),

  remove: (roomId) => transaction("readwrite", (store) => { store.delete(roomId); }),

  /** Deletes every record past its expiresAt. */
  purge: (now = Date.now()) => transaction("readwrite", (store) => {
    store.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      if (!(cursor.value.expiresAt > now)) cursor.delete();
      cursor.continue();
    };
  }),
};

/** The same interface over a Map: for a browser without IndexedDB (keys last as long as the page), and for tests. */
export function memoryKeystore() {
  const records = new Map();
  return {
    records,
    get: async (roomId) => records.get(roomId),
    update: async (roomId, change) => {
      const { record, result } = change(records.get(roomId));
      if (record) records.set(roomId, record);
      return result;
    },
    remove: async (roomId) => { records.delete(roomId); },
    purge: async (now = Date.now()) => {
      for (const [roomId, record] of records) if (!(record.expiresAt > now)) records.delete(roomId);
    },
  };
}

/**
 * Writes and deletes what the keystore keeps (a non-extractable AES-GCM key) in one transaction
 * that is rolled back: throws when this browser cannot keep it.
 */
async function probe() {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  let kept = false;
  const rolledBack = transaction("readwrite", (store, done, tx) => {
    store.put({ roomId: "\u0000probe", expiresAt: 0, key }).onsuccess = () => {
      kept = true;
      abortQuietly(tx);
    };
  });
  await rolledBack.catch((error) => {
    if (!kept) throw error; // the put failed (or never ended): this browser can't keep a key
  });
}

/**
 * A keystore over IndexedDB that moves to memory for good at its first failure, with what it last
 * read or wrote, and says so once through onFallback(error): a storage failure never rejects.
 */
export function withFallback(primary, onFallback) {
  const memory = memoryKeystore();
  const known = new Map(); // roomId -> the record as last read or committed
  let failed = false;
  const fallBack = (error) => {
    failed = true;
    for (const [roomId, record] of known) if (record) memory.records.set(roomId, record);
    onFallback(error);
  };
  const attempt = async (work, inMemory) => {
    if (!failed) {
      try {
        return await work();
      } catch (error) {
        fallBack(error);
      }
    }
    return inMemory();
  };
  return {
    get: (roomId) => attempt(async () => {
      const record = await primary.get(roomId);
      known.set(roomId, record);
      return record;
    }, () => memory.get(roomId)),
    update: (roomId, change) => {
      let written;
      return attempt(async () => {
        const result = await primary.update(roomId, (found) => {
          const out = change(found);
          written = out.record ?? found;
          return out;
        });
        known.set(roomId, written);
        return result;
      }, () => memory.update(roomId, change));
    },
    remove: (roomId) => {
      known.delete(roomId);
      memory.records.delete(roomId);
      return attempt(() => primary.remove(roomId), () => memory.remove(roomId));
    },
    purge: (now = Date.now()) => attempt(() => primary.purge(now), () => memory.purge(now)),
  };
}

/**
 * The keystore of this browser: IndexedDB when it can keep a session key, else memory (keys then
 * last as long as the page). onFallback(error) says when it is (or later becomes) memory.
 */
export async function openKeystore({ onFallback = () => {} } = {}) {
  try {
    await probe();
    return withFallback(indexedStore, onFallback);
  } catch (error) {
    onFallback(error);
    return memoryKeystore();
  }
}
