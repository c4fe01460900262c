-- Prepended to every script when it is loaded (Lua in Redis has no modules),
-- after the shebang that lets Upstash lock only the keys in KEYS: every key a
-- script touches is in KEYS, none is built from stored data.
--
-- A room's hash (KEYS[1] of every room script) holds, besides its verifier:
--   p:<participant> -> seat    seats -> seats taken    hello:<seat> -> hello JSON
--   c:<connection> -> '<seat>:<connected at, ms>'     rl:<seat>:<window> -> sends
--   t:<seat> -> when its last typing signal was relayed (ms)

-- The fields of a hash, as a table and as HGETALL's flat list.
local function read_hash(key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
  return fields, flat
end

-- The caller's seat from a room's fields, or nil and the refusal to answer with.
local function seat_in(fields, participant)
  if not fields.verifier then return nil, 'room-not-found' end
  local seat = fields['p:' .. participant]
  if not seat then return nil, 'unauthorized' end
  return seat
end

-- The same, read with one HMGET of the verifier, the caller's field and `...`
-- (their values follow at [3], [4], ...): for scripts that need no more.
local function seat_and(meta, participant, ...)
  local got = redis.call('HMGET', meta, 'verifier', 'p:' .. participant, ...)
  if not got[1] then return nil, 'room-not-found' end
  if not got[2] then return nil, 'unauthorized' end
  return got
end

-- The room's connections as a flat list: connection ID, '<seat>:<connected at>', ...
local function connections_in(flat)
  local found = {}
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 2) == 'c:' then
      found[#found + 1] = string.sub(flat[i], 3)
      found[#found + 1] = flat[i + 1]
    end
  end
  return found
end
