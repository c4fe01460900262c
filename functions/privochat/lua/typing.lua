-- Whether a typing signal of this connection's participant is relayed: at most
-- one per ARGV[3] ms per seat, however many frames a client sends (each relay
-- is a billed push to every connection of the other participant).
-- KEYS: meta   ARGV: connection id, now (ms), interval (ms)
-- Returns {'ok', 1 if relayed else 0, connections} or {'gone'}.
local fields, flat = read_hash(KEYS[1])
local connection = fields['c:' .. ARGV[1]]
if not fields.verifier or not connection then return {'gone'} end
local seat = string.match(connection, '^(%d+):')
if tonumber(ARGV[2]) - tonumber(fields['t:' .. seat] or '0') < tonumber(ARGV[3]) then
  return {'ok', 0, connections_in(flat)}
end
redis.call('HSET', KEYS[1], 't:' .. seat, ARGV[2])
return {'ok', 1, connections_in(flat)}
