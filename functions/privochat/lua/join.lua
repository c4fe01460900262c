-- Gives the caller a seat. Guarantees, atomically: at most ARGV[2] distinct
-- participants ever hold a seat; a participant who joins again keeps theirs.
-- KEYS: meta   ARGV: participant, max participants
-- Returns {'ok', seat, participants, ttl} or {refusal}.
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then return {'room-not-found'} end
local seat = redis.call('HGET', KEYS[1], ARGV[1])
local participants = tonumber(redis.call('HGET', KEYS[1], 'participants'))
if not seat then
  if participants >= tonumber(ARGV[2]) then return {'room-full'} end
  participants = participants + 1
  seat = participants
  redis.call('HSET', KEYS[1], ARGV[1], seat, 'participants', participants)
end
return {'ok', tonumber(seat), participants, ttl}
