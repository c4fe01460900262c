// links.js: a pasted link read, and the room ID rule the room page checks its path with.
import assert from "node:assert/strict";
import { test } from "node:test";

import { isRoomId, parseRoomLink } from "../../static_site/js/links.js";

test("a room link is read from a URL, a path or ID#key", () => {
  assert.deepEqual(parseRoomLink("https://chat.example/room/AbC_def-1234567890123#key"), { roomId: "AbC_def-1234567890123", key: "key" });
  assert.deepEqual(parseRoomLink("/room/abcdefghijklmnopqrstu"), { roomId: "abcdefghijklmnopqrstu", key: "" });
  assert.deepEqual(parseRoomLink("abcdefghijklmnopqrstu#k"), { roomId: "abcdefghijklmnopqrstu", key: "k" });
  assert.equal(parseRoomLink("not a link at all"), null);
});

test("the room page's path rule is the one a pasted link is read with: the server's, 21 characters", () => {
  for (const id of ["A".repeat(21), "a_b-c".repeat(4) + "9", "0123456789ABCDEFGHIJK"]) assert.equal(isRoomId(id), true, id);
  for (const id of ["abcdef", "A".repeat(20), "A".repeat(22), "a_b-c".repeat(12), "", "abc def".repeat(3), "A".repeat(21) + "/x", "A".repeat(21) + "#k"]) {
    assert.equal(isRoomId(id), false, id);
  }
  assert.equal(parseRoomLink("/room/abcdef"), null, "6 characters: no room of this server");
});
