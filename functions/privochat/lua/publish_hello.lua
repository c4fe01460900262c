-- Keeps a participant's latest hello (its public handshake values, opaque here)
-- under the caller's own seat: a participant can never speak for the other seat.
-- Over the seat's limit (ARGV[3] hellos in window ARGV[4]) nothing is written.
-- KEYS: meta   ARGV: participant, hello JSON, limit, window, seconds until the window ends
-- Returns {'ok', seat, connections} or {refusal, ...}.
local fields, flat = read_hash(KEYS[1])
local seat, refusal = seat_in(fields, ARGV[1])
if not seat then return {refusal} end
if redis.call('HINCRBY', KEYS[1], 'hl:' .. seat .. ':' .. ARGV[4], 1) > tonumber(ARGV[3]) then
  return {'rate-limited', ARGV[5]}
end
redis.call('HSET', KEYS[1], 'hello:' .. seat, ARGV[2])
return {'ok', tonumber(seat), connections_in(flat)}
