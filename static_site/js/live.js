// What a screen reader is told, once each: two visually hidden live regions (room.html),
// polite for the other person's new messages, joins and leaves and the one-minute warning,
// assertive for the room's end. The message log itself is not live (aria-live="off"), so a
// history drawn at a reload is not read out again; only what room.js hands here is.

const KEPT = 5; // the last few announcements stay in the region; older ones go

export class Announcer {
  constructor(polite, assertive) {
    this.regions = { polite, assertive };
  }

  /** Says `text` once: politely, or at once when `urgent`. */
  say(text, { urgent = false } = {}) {
    const region = this.regions[urgent ? "assertive" : "polite"];
    if (!region || !text) return;
    const line = document.createElement("p");
    line.textContent = text;
    region.append(line);
    while (region.childElementCount > KEPT) region.firstElementChild.remove();
  }
}
