-- Deletes the room, its messages and counters included (all in its one hash), so
-- a destroyed room is never half there. The connections' reverse keys are named
-- by the caller afterwards, from the connections returned.
-- KEYS: meta   ARGV: participant
-- Returns {'ok', connections (taken before deleting)} or {refusal}.
local got, refusal = seat_and(KEYS[1], ARGV[1], 'conns')
if not got then return {refusal} end
redis.call('DEL', KEYS[1])
return {'ok', connections_in(got[3])}
