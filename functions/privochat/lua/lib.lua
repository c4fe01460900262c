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
