-- Deletes every key of the room, the connections' reverse keys included, in one
-- step, so a destroyed room is never half there.
-- KEYS: meta, messages, client-ids, connections   ARGV: participant
-- Returns {'ok', connections as HGETALL} (taken before deleting) or {refusal}.
local seat, refusal = seat_of(KEYS[1], ARGV[1])
if not seat then return {refusal} end
local connections = redis.call('HGETALL', KEYS[4])
for i = 1, #connections, 2 do
  -- Reverse keys are named from stored data; fine on a single-shard database.
  redis.call('DEL', 'conn:' .. connections[i])
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return {'ok', connections}
