// Inviting the one other person: the link as selectable text, Copy (which says so when it
// fails), the system share sheet where there is one, and a QR code for a phone's camera.
// The QR code is drawn as SVG nodes from the vendored qrcode-generator (MIT, see vendor/).
import qrcode from "../vendor/qrcode-generator.js";
import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const QUIET_ZONE = 4; // modules of white around the code, as the standard asks

/** An <svg> of the QR code of `text` (error correction M), black on white whatever the theme. */
export function qrSvg(text) {
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  let path = "";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("aria-hidden", "true");
  svg.dataset.modules = String(count);
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  return svg;
}

/** Writes text to the clipboard; false when the browser refuses (no permission, no API). */
export async function copyText(text) {
  if (!navigator.clipboard?.writeText) return false;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Wires every invite control of the page: inputs `.link-text` show the link; buttons
 * `.copy-invite`, `.share-invite` and `.show-qr` act; `dialog` holds the QR code in `qr`.
 * toast(message) tells the result.
 */
export function setUpInvite({ link, dialog, qr, toast }) {
  for (const field of document.querySelectorAll(".link-text")) {
    field.value = link;
    field.addEventListener("focus", () => field.select());
  }
  const canShare = typeof navigator.share === "function" && (navigator.canShare?.({ url: link }) ?? true);
  for (const button of document.querySelectorAll(".share-invite")) {
    button.hidden = !canShare;
    button.addEventListener("click", () => {
      navigator.share({ title: t("invite.shareTitle"), url: link }).catch(() => {}); // dismissed: nothing to say
    });
  }
  for (const button of document.querySelectorAll(".copy-invite")) {
    // In the dialog the page's toast would sit under the backdrop: the dialog says it itself.
    const inDialog = button.closest("dialog");
    const say = (message, tone) => {
      const status = inDialog?.querySelector("[role=status]");
      if (!status) return toast(message, tone);
      status.textContent = message;
      status.dataset.tone = tone;
    };
    button.addEventListener("click", async () => {
      const field = button.closest(".invite-box, dialog")?.querySelector(".link-text");
      if (await copyText(link)) {
        say(t("invite.copied"), "");
        return;
      }
      field?.focus();
      field?.select();
      say(t("invite.copyRefused"), "error");
    });
  }
  let drawn = false;
  const open = () => {
    if (!drawn) {
      qr.replaceChildren(qrSvg(link));
      drawn = true;
    }
    dialog.querySelector("[role=status]").textContent = "";
    dialog.showModal();
  };
  for (const button of document.querySelectorAll(".show-qr")) button.addEventListener("click", open);
  return { open };
}
