-- The room of a connection and all of the room's connections (read only).
-- KEYS: conn:<connection id>
-- Returns {'ok', room id, connections as HGETALL} or {'gone'}.
local room = redis.call('GET', KEYS[1])
if not room then return {'gone'} end
local connections = redis.call('HGETALL', 'connections:{' .. room .. '}')
return {'ok', room, connections}
