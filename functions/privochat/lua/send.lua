-- Appends a message. Guarantees: a participant's clientId stores at most one
-- message, and a retry is answered only with that message: the stored entry
-- while the history keeps it; once it was dropped (the cap), its ID and time with
-- the retry's text if that is the same text (its SHA-256 is kept with the
-- clientId), else the refusal 'client-id-reused'; a retry never publishes a text
-- that was not stored. Over the participant's limit (ARGV[4] sends in window
-- ARGV[5]) nothing is written; the list keeps the newest ARGV[6] messages (older
-- ones are dropped); every key expires with the room.
-- KEYS: meta, messages, client-ids
-- ARGV: participant, clientId, '<id>|<timestamp>|<text>', limit, window, history cap,
--       seconds until the window ends (for a refusal), SHA-256 of the text (hex)
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
if redis.call('HSETNX', KEYS[3], client_key, id .. '|' .. timestamp .. '|' .. ARGV[8]) == 1 then
  local length = redis.call('RPUSH', KEYS[2], stored)
  if length == 1 then
    local ttl = redis.call('PTTL', KEYS[1])
    redis.call('PEXPIRE', KEYS[2], ttl)
    redis.call('PEXPIRE', KEYS[3], ttl)
  elseif length > tonumber(ARGV[6]) then
    redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  end
  return {'ok', stored, connections_in(flat)}
end
-- A retry: the message stored the first time, if the history still holds it.
local first_id, first_timestamp, digest =
  string.match(redis.call('HGET', KEYS[3], client_key), '^([^|]*)|([^|]*)|?(.*)$')
local marker = '|' .. first_id .. '|' .. first_timestamp .. '|'
local all = redis.call('LRANGE', KEYS[2], 0, -1)
for i = #all, 1, -1 do
  if string.sub(all[i], #seat + 1, #seat + #marker) == marker then
    return {'ok', all[i], connections_in(flat)}
  end
end
if digest ~= ARGV[8] then return {'client-id-reused'} end
return {'ok', seat .. marker .. text, connections_in(flat)}
