// "Save conversation": the conversation as a plain-text file, made in the browser and handed
// to it as a download; nothing of it goes through the server.
// Pure but for download(): the lines come from the conversation, the clock is passed in; the
// words are the page's language (i18n.js).
import { t } from "./i18n.js";

const pad2 = (n) => String(n).padStart(2, "0");

/** "2026-12-05 14:03" in the reader's own time zone (the file is theirs). */
function localTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The file's name: privochat-2026-12-05-1403.txt, the time it was saved. */
export function transcriptFileName(now) {
  return `privochat-${localTime(now).replace(" ", "-").replace(":", "")}.txt`;
}

/**
 * The file's text: a header, then one block per message, "[time] name:" and the text, each line of
 * a multi-line text indented. lines: [{own, sender, text, clock}]; me and other: the names.
 */
export function transcriptText(lines, { me, other, now }) {
  const time = localTime(now);
  const head = [
    t("transcript.title"),
    other ? t("transcript.savedWith", { time, me, other }) : t("transcript.saved", { time, me }),
    t("transcript.note"),
    "",
  ];
  const body = lines.map(({ own, sender, text, clock }) => {
    const who = sender || (own ? me : other || t("presence.otherPerson"));
    const [first, ...rest] = text.split(/\r\n|\r|\n/);
    return [`[${localTime(clock)}] ${who}: ${first}`, ...rest.map((line) => `    ${line}`)].join("\n");
  });
  return `${[...head, ...body].join("\n")}\n`;
}

/** Hands the text to the browser as a file download (a Blob URL, revoked once used). */
export function download(text, fileName) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
