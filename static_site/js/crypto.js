// End-to-end encryption for message text.
// The room key is a random 256-bit AES-GCM key carried in the link's fragment
// (/room/<id>#<key>) as base64url; fragments never reach a server.
// Wire format of an encrypted text: base64url(iv (12 bytes) || AES-GCM ciphertext+tag).

const IV_BYTES = 12;
const KEY_BYTES = 32;

function toBase64Url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A new random room key, as the base64url string that goes into the link. */
export async function newRoomKey() {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
  return toBase64Url(new Uint8Array(await crypto.subtle.exportKey("raw", key)));
}

/** The CryptoKey for a link fragment, or null when the fragment is not a 256-bit base64url key. */
export async function importRoomKey(fragment) {
  let raw;
  try {
    raw = fromBase64Url(fragment);
  } catch {
    return null;
  }
  if (raw.length !== KEY_BYTES) return null;
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export async function encryptText(key, plaintext) {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(plaintext));
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return toBase64Url(out);
}

/** The plaintext, or null when the text was not sealed with this key (wrong key, tampered, not ciphertext). */
export async function decryptText(key, wireText) {
  try {
    const bytes = fromBase64Url(wireText);
    if (bytes.length <= IV_BYTES) return null;
    const opened = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES) }, key, bytes.subarray(IV_BYTES));
    return new TextDecoder().decode(opened);
  } catch {
    return null;
  }
}
