-- Deletes every key of the room in one step, so a destroyed room is never half
-- there (its hash holds the participants' send counters too). The connections'
-- reverse keys are named by the caller afterwards, from the connections returned.
-- KEYS: meta, messages, client-ids   ARGV: participant
-- Returns {'ok', connections (taken before deleting)} or {refusal}.
local fields, flat = read_hash(KEYS[1])
local seat, refusal = seat_in(fields, ARGV[1])
if not seat then return {refusal} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return {'ok', connections_in(flat)}
