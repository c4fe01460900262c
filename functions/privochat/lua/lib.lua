-- Prepended to every script when it is loaded (Lua in Redis has no modules),
-- after the shebang that lets Upstash lock only the keys in KEYS: every key a
-- script touches is in KEYS, none is built from stored data.
--
-- A room is one hash (KEYS[1] of every room script), read with HMGET of named
-- fields only (never HGETALL: the messages live in it too). Its fields:
--   verifier -> '<SHA-256 of the proof>:<expiry, ms since the epoch>'
--   p:<participant> -> seat    seats -> seats taken    hello:<seat> -> hello JSON
--   conns -> '<connection> <seat>:<connected at, ms>,...' (all connections, one field)
--   rl:<participant>:<window> -> sends    hl:<participant>:<window> -> hellos
--   n -> messages stored so far    m:<n mod cap> -> a stored entry (below)
--     (a ring: the newest `cap` messages; a new one overwrites the oldest, so a send
--     never trims and never sets an expiry: the hash already expires with the room)
--   k:<participant>:<clientId> -> '<n>|<id>|<timestamp>|<SHA-256 of the text>'
-- One hash means no second key to expire on a room's first message and no LTRIM
-- once it is full: a send costs the same 3 billed commands from the first to the last.

-- The verifier and the room's expiry (ms) from the verifier field.
local function split_verifier(value)
  local verifier, expiry = string.match(value, '^(.*):(%d+)$')
  return verifier, expiry
end

-- The same, read with one HMGET of the verifier, the caller's field and `...`
-- (their values follow at [3], [4], ...).
local function seat_and(meta, participant, ...)
  local got = redis.call('HMGET', meta, 'verifier', 'p:' .. participant, ...)
  if not got[1] then return nil, 'room-not-found' end
  if not got[2] then return nil, 'unauthorized' end
  return got
end

-- The conns field as a flat list: connection ID, '<seat>:<connected at>', ...
local function connections_in(text)
  local found = {}
  for id, value in string.gmatch(text or '', '([^ ,]+) ([^ ,]+)') do
    found[#found + 1] = id
    found[#found + 1] = value
  end
  return found
end

-- A flat list back into the conns field.
local function conns_text(flat)
  local parts = {}
  for i = 1, #flat, 2 do parts[#parts + 1] = flat[i] .. ' ' .. flat[i + 1] end
  return table.concat(parts, ',')
end

-- A stored message, '<seat>|<id>|<timestamp>|<text>' (the text last, so it may hold
-- any character). Built and read here only: send.lua takes the message's parts
-- and every script answers an entry as its parts, {seat, id, timestamp, text}, so
-- no caller knows the format (store_upstash.py reads the parts; the browser tests'
-- tests/support/room_keys.py writes the same layout to stage a hostile store).
local function entry(seat, id, timestamp, text)
  return seat .. '|' .. id .. '|' .. timestamp .. '|' .. text
end

local function entry_parts(stored)
  local seat, id, timestamp, text = string.match(stored, '^(%d+)|([^|]*)|([^|]*)|(.*)$')
  return {tonumber(seat), id, timestamp, text}
end
