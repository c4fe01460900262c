-- The room's remaining seconds, for a participant only.
-- KEYS: meta   ARGV: participant
-- Returns {'ok', ttl} or {refusal}.
local got, refusal = seat_and(KEYS[1], ARGV[1])
if not got then return {refusal} end
return {'ok', redis.call('TTL', KEYS[1])}
