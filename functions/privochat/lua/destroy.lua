-- Deletes every key of the room in one step, so a destroyed room is never half
-- there: its own keys, the connections' reverse keys, and the participants'
-- message rate-limit counters (current and previous window).
-- KEYS: meta, messages, client-ids, connections
-- ARGV: participant, counter key prefix, counter key suffixes...
-- Returns {'ok', connections as HGETALL} (taken before deleting) or {refusal}.
local seat, refusal = seat_of(KEYS[1], ARGV[1])
if not seat then return {refusal} end
-- Keys below are named from stored data; fine on a single-shard database.
local connections = redis.call('HGETALL', KEYS[4])
for i = 1, #connections, 2 do
  redis.call('DEL', 'conn:' .. connections[i])
end
local meta = redis.call('HGETALL', KEYS[1])
for i = 1, #meta, 2 do
  if #meta[i] == 64 then  -- a participant's token hash
    for j = 3, #ARGV do redis.call('DEL', ARGV[2] .. meta[i] .. ARGV[j]) end
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return {'ok', connections}
