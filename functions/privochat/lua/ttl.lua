-- The room's remaining seconds, for a participant only.
-- KEYS: meta   ARGV: participant
-- Returns {'ok', ttl} or {refusal}.
local got = redis.call('HMGET', KEYS[1], 'verifier', 'p:' .. ARGV[1])
if not got[1] then return {'room-not-found'} end
if not got[2] then return {'unauthorized'} end
return {'ok', redis.call('TTL', KEYS[1])}
