-- Drops connections that the gateway reported gone, with their reverse keys,
-- except those that connected after ARGV[1]: the gateway also answers 410 for a
-- connection whose $connect is still running, and that one is not gone.
-- KEYS: connections   ARGV: connected-before cutoff (ms), connection ids...
for i = 2, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  local connected_at = value and tonumber(string.match(value, ':(%d+)$')) or 0
  if value and connected_at < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('DEL', 'conn:' .. ARGV[i])
  end
end
return 'OK'
