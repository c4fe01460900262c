-- Prepended to every script when it is loaded (Lua in Redis has no modules),
-- after the shebang that lets Upstash lock only the keys in KEYS: every key a
-- script touches is in KEYS, none is built from stored data.
--
-- A room's hash (KEYS[1] of every room script) holds, besides its verifier:
--   p:<participant> -> seat    seats -> seats taken    hello:<seat> -> hello JSON
--   c:<connection> -> '<seat>:<connected at, ms>'     rl:<seat>:<window> -> sends
--   t:<seat> -> when its last typing signal was relayed (ms)
--   f:<connection> -> '<window>:<frames>' the connection sent in that window

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

-- Counts one more $default frame of a connection: at most `limit` per fixed
-- window of `window_ms`. Returns the value for its f:<connection> field (the
-- caller writes it with its own HSET), or nil and the seconds until the
-- window ends when the frame is one too many (then nothing is written).
local function count_frame(fields, connection, now, window_ms, limit)
  local window = math.floor(now / window_ms)
  local frames = 1
  local stored_window, stored_frames = string.match(fields['f:' .. connection] or '', '^(%d+):(%d+)$')
  if tonumber(stored_window) == window then frames = tonumber(stored_frames) + 1 end
  if frames > limit then return nil, math.ceil(((window + 1) * window_ms - now) / 1000) end
  return string.format('%d:%d', window, frames)
end
