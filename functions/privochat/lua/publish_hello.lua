-- Keeps a participant's latest hello (its public handshake values, opaque here)
-- under the caller's own seat: a participant can never speak for the other seat.
-- KEYS: meta   ARGV: participant, hello JSON
-- Returns {'ok', seat, connections} or {refusal}.
local fields, flat = read_hash(KEYS[1])
local seat, refusal = seat_in(fields, ARGV[1])
if not seat then return {refusal} end
redis.call('HSET', KEYS[1], 'hello:' .. seat, ARGV[2])
return {'ok', tonumber(seat), connections_in(flat)}
