-- Whether a typing signal of this connection's participant is relayed: at most
-- one per ARGV[3] ms per seat, however many frames a client sends (each relay
-- is a billed push to every connection of the other participant). The frame
-- is counted against the connection's budget first (count_frame in lib.lua).
-- KEYS: meta
-- ARGV: connection id, now (ms), interval (ms), frame window (ms), frames per window
-- Returns {'ok', 1 if relayed else 0, connections}, {'gone'} or {'rate-limited', seconds}.
local fields, flat = read_hash(KEYS[1])
local connection = fields['c:' .. ARGV[1]]
if not fields.verifier or not connection then return {'gone'} end
local now = tonumber(ARGV[2])
local frames, wait = count_frame(fields, ARGV[1], now, tonumber(ARGV[4]), tonumber(ARGV[5]))
if not frames then return {'rate-limited', wait} end
local seat = string.match(connection, '^(%d+):')
if now - tonumber(fields['t:' .. seat] or '0') < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'f:' .. ARGV[1], frames)
  return {'ok', 0, connections_in(flat)}
end
redis.call('HSET', KEYS[1], 'f:' .. ARGV[1], frames, 't:' .. seat, ARGV[2])
return {'ok', 1, connections_in(flat)}
