-- Answers a ping: the room's connections (the pong's presence count), once the
-- frame is counted against the connection's budget (count_frame in lib.lua).
-- KEYS: meta   ARGV: connection id, now (ms), frame window (ms), frames per window
-- Returns {'ok', connections}, {'gone'} or {'rate-limited', seconds}.
local fields, flat = read_hash(KEYS[1])
if not fields.verifier or not fields['c:' .. ARGV[1]] then return {'gone'} end
local frames, wait = count_frame(fields, ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
if not frames then return {'rate-limited', wait} end
redis.call('HSET', KEYS[1], 'f:' .. ARGV[1], frames)
return {'ok', connections_in(flat)}
