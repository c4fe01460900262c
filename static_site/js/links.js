// Reads a room link as people paste it: a full URL, a path, "ID#key" or a bare room ID.

/** A room ID: the server's rule (ID_PATTERN in functions/privochat/domain.py, which
 * tests/functions/test_patterns.py compares with this one), 21 URL-safe characters. */
export const ROOM_ID_PATTERN = "[0-9A-Za-z_-]{21}";
const PATTERN = new RegExp(`^(?:.*/room/)?(${ROOM_ID_PATTERN})/?(?:#(.*))?$`);

/** {roomId, key} (key may be ""), or null when the text is not a room link. */
export function parseRoomLink(text) {
  const match = PATTERN.exec(text.trim());
  if (!match) return null;
  return { roomId: match[1], key: (match[2] || "").trim() };
}

/** Whether `text` is a room ID as a room link carries it (the room page checks its path). */
export function isRoomId(text) {
  return new RegExp(`^${ROOM_ID_PATTERN}$`).test(text);
}
