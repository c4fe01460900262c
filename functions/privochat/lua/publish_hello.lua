-- Keeps a participant's latest hello (its public handshake values, opaque here)
-- in the room's hash, under the caller's seat: a participant can never speak
-- for the other seat.
-- KEYS: meta, connections   ARGV: participant, hello JSON
-- Returns {'ok', seat, connections as HGETALL} or {refusal}.
local seat, refusal = seat_of(KEYS[1], ARGV[1])
if not seat then return {refusal} end
redis.call('HSET', KEYS[1], 'hello:' .. seat, ARGV[2])
return {'ok', tonumber(seat), redis.call('HGETALL', KEYS[2])}
