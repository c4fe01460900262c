-- Records a participant's WebSocket connection, with its seat and when it
-- connected, and the reverse key that $disconnect needs; both expire with the
-- room. Guarantees: a participant holds at most ARGV[5] connections.
-- KEYS: meta, conn:<connection id>
-- ARGV: participant, connection id, room id, connected at (ms), max connections per seat
-- Returns {'ok', connections} or {refusal}.
local fields, flat = read_hash(KEYS[1])
local seat, refusal = seat_in(fields, ARGV[1])
if not seat then return {refusal} end
local connections = connections_in(flat)
local mine = 0
for i = 2, #connections, 2 do
  if string.match(connections[i], '^(%d+):') == seat then mine = mine + 1 end
end
if mine >= tonumber(ARGV[5]) then return {'too-many-connections'} end
local value = seat .. ':' .. ARGV[4]
redis.call('HSET', KEYS[1], 'c:' .. ARGV[2], value)
redis.call('SET', KEYS[2], ARGV[3], 'PX', redis.call('PTTL', KEYS[1]))
connections[#connections + 1] = ARGV[2]
connections[#connections + 1] = value
return {'ok', connections}
