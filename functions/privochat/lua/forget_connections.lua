-- Drops connections that the gateway reported gone, with their reverse keys.
-- KEYS: connections   ARGV: connection ids
for _, connection in ipairs(ARGV) do
  redis.call('HDEL', KEYS[1], connection)
  redis.call('DEL', 'conn:' .. connection)
end
return 'OK'
