// A room's time left, said in words: "10 min" on the chip, "10 minutes" in sentences.
// Minutes are rounded up (a fresh room shows "10 min"), seconds only in the last minute.
import { t } from "./i18n.js";

/** The chip's short form: "10 min", "1 min", "45 s". */
export function shortLeft(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return s >= 60 ? t("time.minShort", { count: Math.ceil(s / 60) }) : t("time.secShort", { count: s });
}

/** The words of a sentence: "10 minutes", "1 minute", "45 seconds", "1 second". */
export function wordsLeft(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return s >= 60 ? t("time.minutes", { count: Math.ceil(s / 60) }) : t("time.seconds", { count: s });
}

/** The exact form for a tooltip: "9:41", "1:02:03". */
export function clockLeft(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
