-- Removes a connection from its room (found through its reverse key).
-- KEYS: conn:<connection id>   ARGV: connection id
-- Returns {'ok', room id, remaining connections as HGETALL} or {'gone'}.
local room = redis.call('GET', KEYS[1])
if not room then return {'gone'} end
redis.call('DEL', KEYS[1])
-- The room's key is named from stored data; fine on a single-shard database.
local connections = 'connections:{' .. room .. '}'
redis.call('HDEL', connections, ARGV[1])
return {'ok', room, redis.call('HGETALL', connections)}
