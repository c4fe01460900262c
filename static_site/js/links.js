// Reads a room link as people paste it: a full URL, a path, "ID#key" or a bare room ID.

const ROOM_ID = "[A-Za-z0-9_-]{6,64}";
const PATTERN = new RegExp(`^(?:.*/room/)?(${ROOM_ID})/?(?:#(.*))?$`);

/** {roomId, key} (key may be ""), or null when the text is not a room link. */
export function parseRoomLink(text) {
  const match = PATTERN.exec(text.trim());
  if (!match) return null;
  return { roomId: match[1], key: (match[2] || "").trim() };
}

/** Whether `text` is a room ID as a room link carries it (the room page checks its path). */
export function isRoomId(text) {
  return new RegExp(`^${ROOM_ID}$`).test(text);
}
