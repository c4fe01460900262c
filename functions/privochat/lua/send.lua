-- Appends a message. Guarantees: a participant's clientId stores at most one
-- message (a retry gets the first one back); the new keys expire with the room;
-- over the participant's rate limit nothing is written.
-- KEYS: meta, messages, client-ids, connections [, rate-limit counter]
-- ARGV: participant, clientId, '<id>|<timestamp>|<text>' [, limit]
-- Returns {'ok', '<seat>|<id>|<timestamp>|<text>', connections as HGETALL} or {refusal}.
local seat, refusal = seat_of(KEYS[1], ARGV[1])
if not seat then return {refusal} end
if over_limit(4) then return {'rate-limited'} end
local client_key = seat .. ':' .. ARGV[2]
local stored = redis.call('HGET', KEYS[3], client_key)
if not stored then
  stored = seat .. '|' .. ARGV[3]
  redis.call('RPUSH', KEYS[2], stored)
  expire_with_room(KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[3], client_key, stored)
  expire_with_room(KEYS[1], KEYS[3])
end
return {'ok', stored, redis.call('HGETALL', KEYS[4])}
