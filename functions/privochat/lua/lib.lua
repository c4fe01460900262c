-- Prepended to every script when it is loaded (Lua in Redis has no modules).

-- The caller's seat in the room, or nil and the refusal to answer with.
-- `meta` is the room's hash; `participant` the field of the caller's token hash.
local function seat_of(meta, participant)
  if redis.call('EXISTS', meta) == 0 then return nil, 'room-not-found' end
  local seat = redis.call('HGET', meta, participant)
  if not seat then return nil, 'unauthorized' end
  return seat
end

-- Every key of a room expires together: give `key` the room's remaining life.
local function expire_with_room(meta, key)
  redis.call('PEXPIRE', key, redis.call('PTTL', meta))
end

-- A rate-limited call runs in one transaction after upstash-ratelimit's counter
-- script; then the counter's key is the last of KEYS (beyond the script's own
-- `own_keys`) and the limit the last of ARGV. Over the limit, nothing is written.
local function over_limit(own_keys)
  if #KEYS <= own_keys then return false end
  return tonumber(redis.call('GET', KEYS[#KEYS]) or '0') > tonumber(ARGV[#ARGV])
end
