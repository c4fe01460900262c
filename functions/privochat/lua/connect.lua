-- Records a participant's WebSocket connection, with its seat and when it
-- connected, and the reverse key that $disconnect needs; both expire with the room.
-- KEYS: meta, connections, conn:<connection id>
-- ARGV: participant, connection id, room id, connected at (ms)
-- Returns {'ok', connections as HGETALL ('<seat>:<connected at>' values)} or {refusal}.
local seat, refusal = seat_of(KEYS[1], ARGV[1])
if not seat then return {refusal} end
redis.call('HSET', KEYS[2], ARGV[2], seat .. ':' .. ARGV[4])
expire_with_room(KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[3])
expire_with_room(KEYS[1], KEYS[3])
return {'ok', redis.call('HGETALL', KEYS[2])}
