-- Keeps a participant's latest hello (its public handshake values, opaque here)
-- under the caller's own seat: a participant can never speak for the other seat.
-- Over the participant's limit (ARGV[3] hellos in window ARGV[4]) nothing is written.
-- KEYS: meta   ARGV: participant, hello JSON, limit, window, seconds until the window ends
-- Returns {'ok', seat, connections} or {refusal, ...}.
local counter = 'hl:' .. ARGV[1] .. ':' .. ARGV[4]
local got, refusal = seat_and(KEYS[1], ARGV[1], 'conns', counter)
if not got then return {refusal} end
local sent = tonumber(got[4] or '0') + 1
if sent > tonumber(ARGV[3]) then return {'rate-limited', ARGV[5]} end
redis.call('HSET', KEYS[1], counter, sent, 'hello:' .. got[2], ARGV[2])
return {'ok', tonumber(got[2]), connections_in(got[3])}
