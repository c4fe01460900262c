-- Removes a connection from its room (found by the caller through its reverse
-- key, which is left to expire with the room: every lookup through it checks the
-- room's conns field, so a stale one finds nothing, and deleting it would be
-- one more billed command on every $disconnect).
-- KEYS: meta   ARGV: connection id
-- Returns {'ok', remaining connections}, or {'gone'} when the room is gone or the
-- connection was not one of its own (any more).
local got = redis.call('HMGET', KEYS[1], 'verifier', 'conns')
if not got[1] then return {'gone'} end
local connections = connections_in(got[2])
local kept = {}
for i = 1, #connections, 2 do
  if connections[i] ~= ARGV[1] then
    kept[#kept + 1] = connections[i]
    kept[#kept + 1] = connections[i + 1]
  end
end
if #kept == #connections then return {'gone'} end
redis.call('HSET', KEYS[1], 'conns', conns_text(kept))
return {'ok', kept}
