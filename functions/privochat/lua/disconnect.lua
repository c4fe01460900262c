-- Removes a connection from its room (found by the caller through its reverse key).
-- KEYS: meta, conn:<connection id>   ARGV: connection id
-- Returns {'ok', remaining connections} or {'gone'} when the room is gone.
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'c:' .. ARGV[1], 'f:' .. ARGV[1])
local fields, flat = read_hash(KEYS[1])
if not fields.verifier then return {'gone'} end
return {'ok', connections_in(flat)}
