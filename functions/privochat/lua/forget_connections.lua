-- Drops connections that the gateway reported gone, with their reverse keys,
-- except those that connected after ARGV[1]: the gateway also answers 410 for a
-- connection whose $connect is still running, and that one is not gone.
-- KEYS: meta, conn:<id> of each connection   ARGV: cutoff (ms), connection ids...
local got = redis.call('HMGET', KEYS[1], 'verifier', 'conns')
if not got[1] then return 'OK' end
local gone = {}
for i = 2, #ARGV do gone[ARGV[i]] = KEYS[i] end
local connections = connections_in(got[2])
local kept, keys = {}, {}
for i = 1, #connections, 2 do
  local since = tonumber(string.match(connections[i + 1], ':(%d+)$'))
  if gone[connections[i]] and since < tonumber(ARGV[1]) then
    keys[#keys + 1] = gone[connections[i]]
  else
    kept[#kept + 1] = connections[i]
    kept[#kept + 1] = connections[i + 1]
  end
end
if #keys > 0 then
  redis.call('HSET', KEYS[1], 'conns', conns_text(kept))
  redis.call('DEL', unpack(keys))
end
return 'OK'
