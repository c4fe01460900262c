// transcript.js: the saved conversation's file name and text.
import assert from "node:assert/strict";
import { test } from "node:test";

import { transcriptFileName, transcriptText } from "../../static_site/js/transcript.js";

process.env.TZ = "UTC";
const at = (iso) => Date.parse(iso);

test("the file is named for the time it was saved", () => {
  assert.equal(transcriptFileName(at("2026-12-05T14:03:59Z")), "privochat-2026-12-05-1403.txt");
});

test("each message: its sender's time, name and text; lines of a long text indented; names as sealed", () => {
  const text = transcriptText([
    { own: true, sender: "Alice", text: "hi Bob", clock: at("2026-12-05T14:00:00Z") },
    { own: false, sender: "Bob", text: "two\nlines", clock: at("2026-12-05T14:01:30Z") },
    { own: false, sender: null, text: "مرحبا", clock: at("2026-12-05T14:02:00Z") },
  ], { me: "Alice", other: "Bob", now: at("2026-12-05T14:03:00Z") });
  assert.equal(text, [
    "PrivoChat conversation",
    "Saved 2026-12-05 14:03 by Alice, with Bob.",
    "Times are each sender's own clock. The room and its messages are deleted when it ends; this file is your copy.",
    "",
    "[2026-12-05 14:00] Alice: hi Bob",
    "[2026-12-05 14:01] Bob: two",
    "    lines",
    "[2026-12-05 14:02] Bob: مرحبا",
    "",
  ].join("\n"));
});

test("an empty conversation is a header only", () => {
  assert.equal(transcriptText([], { me: "Alice", other: "", now: at("2026-12-05T14:03:00Z") }).split("\n").length, 5);
});
