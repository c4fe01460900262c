-- Appends a message. Guarantees: a participant's clientId stores at most one
-- message (a retry gets the first one back); over the participant's limit
-- (ARGV[4] sends in window ARGV[5]) nothing is written; the list keeps the
-- newest ARGV[6] messages (older ones are dropped); every key expires with the room.
-- KEYS: meta, messages, client-ids
-- ARGV: participant, clientId, '<id>|<timestamp>|<text>', limit, window, history cap,
--       seconds until the window ends (for a refusal)
-- Returns {'ok', '<seat>|<id>|<timestamp>|<text>', connections} or {refusal, ...}.
local fields, flat = read_hash(KEYS[1])
local seat, refusal = seat_in(fields, ARGV[1])
if not seat then return {refusal} end
if redis.call('HINCRBY', KEYS[1], 'rl:' .. seat .. ':' .. ARGV[5], 1) > tonumber(ARGV[4]) then
  return {'rate-limited', ARGV[7]}
end
local id, timestamp, text = string.match(ARGV[3], '^([^|]*)|([^|]*)|(.*)$')
local stored = seat .. '|' .. ARGV[3]
local client_key = seat .. ':' .. ARGV[2]
if redis.call('HSETNX', KEYS[3], client_key, id .. '|' .. timestamp) == 1 then
  local length = redis.call('RPUSH', KEYS[2], stored)
  if length == 1 then
    local ttl = redis.call('PTTL', KEYS[1])
    redis.call('PEXPIRE', KEYS[2], ttl)
    redis.call('PEXPIRE', KEYS[3], ttl)
  elseif length > tonumber(ARGV[6]) then
    redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  end
else
  -- A retry: the message stored the first time (if still in the history).
  local first = redis.call('HGET', KEYS[3], client_key)
  local marker = '|' .. first .. '|'
  stored = seat .. marker .. text
  local all = redis.call('LRANGE', KEYS[2], 0, -1)
  for i = #all, 1, -1 do
    if string.sub(all[i], #seat + 1, #seat + #marker) == marker then
      stored = all[i]
      break
    end
  end
end
return {'ok', stored, connections_in(flat)}
