-- Drops connections that the gateway reported gone, with their reverse keys and
-- frame counts, except those that connected after ARGV[1]: the gateway also
-- answers 410 for a connection whose $connect is still running, and that one is
-- not gone.
-- KEYS: meta, conn:<id> of each connection   ARGV: cutoff (ms), connection ids...
local names = {}
for i = 2, #ARGV do names[#names + 1] = 'c:' .. ARGV[i] end
local values = redis.call('HMGET', KEYS[1], unpack(names))
local fields, keys = {}, {}
for i, value in ipairs(values) do
  if value and tonumber(string.match(value, ':(%d+)$')) < tonumber(ARGV[1]) then
    fields[#fields + 1] = names[i]
    fields[#fields + 1] = 'f:' .. ARGV[i + 1]
    keys[#keys + 1] = KEYS[i + 1]
  end
end
if #fields > 0 then
  redis.call('HDEL', KEYS[1], unpack(fields))
  redis.call('DEL', unpack(keys))
end
return 'OK'
