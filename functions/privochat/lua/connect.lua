-- Records a participant's WebSocket connection, with its seat and when it
-- connected, and the reverse key that $disconnect needs (it expires with the
-- room, from the expiry kept with the verifier: no PTTL).
-- Guarantees: a participant holds at most ARGV[5] connections.
-- KEYS: meta, conn:<connection id>
-- ARGV: participant, connection id, room id, connected at (ms), max connections per seat
-- Returns {'ok', expiry (ms), connections} or {refusal}.
local got, refusal = seat_and(KEYS[1], ARGV[1], 'conns')
if not got then return {refusal} end
local seat = got[2]
local connections = connections_in(got[3])
local mine = 0
for i = 1, #connections, 2 do
  if connections[i] ~= ARGV[2] and string.match(connections[i + 1], '^(%d+):') == seat then
    mine = mine + 1
  end
end
if mine >= tonumber(ARGV[5]) then return {'too-many-connections'} end
local kept = {}
for i = 1, #connections, 2 do
  if connections[i] ~= ARGV[2] then
    kept[#kept + 1] = connections[i]
    kept[#kept + 1] = connections[i + 1]
  end
end
kept[#kept + 1] = ARGV[2]
kept[#kept + 1] = seat .. ':' .. ARGV[4]
redis.call('HSET', KEYS[1], 'conns', conns_text(kept))
local _, expiry = split_verifier(got[1])
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', expiry)
return {'ok', expiry, kept}
