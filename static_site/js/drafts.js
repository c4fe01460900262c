// What is being written, kept in this tab's sessionStorage: the draft of a room survives a
// reload and goes on send, leave and destroy; what was not sent when the room expired is
// handed to the lobby, which shows it once. Functions over a Storage object (null where the
// browser blocks storage: then a draft lives as long as the page, and nothing is kept).

const KEPT_KEY = "privochat.kept";

/** This tab's sessionStorage, or null where the browser blocks it (reading it throws there). */
export function tabStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** The key of a room page's draft: one a room, by its path. */
export function draftKey(pathname) {
  return `privochat.draft.${pathname}`;
}

/** Keeps `text` under `key`; an empty text removes it. */
export function saveDraft(storage, key, text) {
  try {
    if (text) storage.setItem(key, text);
    else storage.removeItem(key);
  } catch {
    // storage blocked or full: the draft lives as long as the page
  }
}

export function loadDraft(storage, key) {
  try {
    return storage.getItem(key) || "";
  } catch {
    return "";
  }
}

/** The room expired under these texts: keeps those that are not blank for the lobby. */
export function keepUnsent(storage, texts) {
  const kept = texts.filter((text) => text.trim());
  try {
    if (kept.length) storage.setItem(KEPT_KEY, JSON.stringify(kept));
  } catch {
    // storage blocked: nothing to keep it in
  }
}

/** What keepUnsent kept, taken out: the lobby shows it once. */
export function takeKept(storage) {
  let texts = [];
  try {
    texts = JSON.parse(storage.getItem(KEPT_KEY) || "[]");
    storage.removeItem(KEPT_KEY);
  } catch {
    return [];
  }
  return Array.isArray(texts) ? texts : [];
}
