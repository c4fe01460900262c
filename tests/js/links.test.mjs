// links.js: a pasted link read, and the room ID rule the room page checks its path with.
import assert from "node:assert/strict";
import { test } from "node:test";

import { isRoomId, parseRoomLink } from "../../static_site/js/links.js";

test("a room link is read from a URL, a path or ID#key", () => {
  assert.deepEqual(parseRoomLink("https://chat.example/room/AbC_def-123456789012345#key"), { roomId: "AbC_def-123456789012345", key: "key" });
  assert.deepEqual(parseRoomLink("/room/abcdef"), { roomId: "abcdef", key: "" });
  assert.equal(parseRoomLink("not a link at all"), null);
});

test("the room page's path rule is the one a pasted link is read with", () => {
  for (const id of ["abcdef", "A".repeat(21), "a_b-c".repeat(12)]) assert.equal(isRoomId(id), true, id);
  for (const id of ["abc", "", "a".repeat(65), "abc def", "abcdef/x", "abcdef#k"]) assert.equal(isRoomId(id), false, id);
});
