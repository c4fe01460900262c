// Keys at rest (docs/protocol.md): IndexedDB "privochat", store "rooms", one record per room,
// {roomId, seat, expiresAt, pairs: {g: {privateKey, pub}}, sessions: {epoch: {generation, sendKey, recvKey, safety, nextSeq}}}.
// CryptoKeys are stored as they are (structured clone): non-extractable, they never exist as bytes here.

const DB_NAME = "privochat";
const STORE = "rooms";
let opening;

function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "roomId" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

/** Runs work(store) in one transaction; resolves with what work's callback last set, once committed. */
async function transaction(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    let result;
    work(tx.objectStore(STORE), (value) => { result = value; });
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
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

/** The keystore of this browser: IndexedDB, or memory when IndexedDB cannot be opened. */
export async function openKeystore() {
  try {
    await database();
    return indexedStore;
  } catch {
    return memoryKeystore();
  }
}
