// Whether the other person sees what this person read (the "read" of a receipt): remembered per
// browser, on by default; a browser that stores nothing keeps the default.
const KEY = "privochat-read-receipts";

export const readReceipts = {
  get on() {
    try {
      return localStorage.getItem(KEY) !== "off";
    } catch {
      return true;
    }
  },
  set(on) {
    try {
      localStorage.setItem(KEY, on ? "on" : "off");
    } catch { /* nothing stored: the default stays */ }
  },
};
