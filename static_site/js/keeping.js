// The room's controls for what the conversation leaves behind: "Read receipts" (whether the
// other person sees what this one read; read-receipts.js remembers it) and "Save conversation"
// (a text file made in the browser, transcript.js; in the footer and in the one-minute warning).
import { t } from "./i18n.js";
import { readReceipts } from "./read-receipts.js";
import { download, transcriptFileName, transcriptText } from "./transcript.js";

/** lines() -> the conversation's transcript; me() and other() -> the two names ("" while unknown). */
export function setUpKeeping({ lines, me, other }) {
  const toggle = document.getElementById("read-receipts");
  const show = () => {
    toggle.setAttribute("aria-pressed", String(readReceipts.on));
    toggle.textContent = t(readReceipts.on ? "room.readReceiptsOn" : "room.readReceiptsOff");
  };
  show();
  toggle.addEventListener("click", () => {
    readReceipts.set(!readReceipts.on);
    show();
  });
  for (const button of document.querySelectorAll(".save-conversation")) {
    button.addEventListener("click", () => {
      const now = Date.now();
      download(transcriptText(lines(), { me: me(), other: other(), now }), transcriptFileName(now));
    });
  }
}
