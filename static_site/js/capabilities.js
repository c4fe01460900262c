// What a room needs of the browser, checked before anything is joined or created, so a browser
// that cannot run the protocol says so in plain words instead of waiting forever: WebCrypto's
// X25519 (the key agreement, docs/protocol.md) and WebSocket (realtime). Storage is not needed:
// without it keys live in the page (keystore.js).
import { t } from "./i18n.js";
import { generateX25519 } from "./protocol.js";

/** Browsers that run rooms, for the sentence a browser that can't is shown. */
export const WORKING_BROWSERS = () => t("unsupported.browsers");

/** The names of what this browser lacks: "webcrypto", "x25519", "websocket"; empty when it has it all. */
export async function missingForRoom({ crypto = globalThis.crypto, WebSocket = globalThis.WebSocket, generate = generateX25519 } = {}) {
  const missing = [];
  if (!crypto?.subtle) missing.push("webcrypto");
  else if (!(await agreesX25519(crypto.subtle, generate))) missing.push("x25519");
  if (typeof WebSocket !== "function") missing.push("websocket");
  return missing;
}

/** Makes two X25519 pairs and agrees a secret: the whole of what the handshake asks of WebCrypto. */
async function agreesX25519(subtle, generate) {
  try {
    const [a, b] = await Promise.all([generate(), generate()]);
    const bits = await subtle.deriveBits({ name: "X25519", public: b.publicKey }, a.privateKey, 256);
    return bits.byteLength === 32;
  } catch {
    return false;
  }
}


/** One sentence for a person: what is missing, and which browsers work. */
export function unsupportedText(missing) {
  const lacks = missing.map((name) => t(`unsupported.${name}`)).join(t("unsupported.and"));
  return t("unsupported.text", { lacks, browsers: WORKING_BROWSERS() });
}
