-- Appends a message to the room's ring (lib.lua). Guarantees: a participant's
-- clientId stores at most one message, and a retry is answered only with that
-- message: the stored entry while the ring keeps it; once it was overwritten,
-- its ID and time with the retry's text if that is the same text (its SHA-256 is
-- kept with the clientId), else the refusal 'client-id-reused'; a retry never
-- publishes a text that was not stored. Over the participant's limit (ARGV[6]
-- sends in window ARGV[7]) nothing is written; the ring keeps the newest ARGV[8].
-- Billed: EVALSHA, HMGET, HSET (a retry: one HGET more). No expiry and no trim.
-- KEYS: meta
-- ARGV: participant, clientId, message id, timestamp (ms), text, limit, window,
--       history cap, seconds until the window ends (for a refusal), SHA-256 of the text (hex)
-- Returns {'ok', the stored entry's parts (lib.lua), connections} or {refusal, ...}.
local counter = 'rl:' .. ARGV[1] .. ':' .. ARGV[7]
local client_field = 'k:' .. ARGV[1] .. ':' .. ARGV[2]
local got, refusal = seat_and(KEYS[1], ARGV[1], 'conns', 'n', counter, client_field)
if not got then return {refusal} end
local seat, stored_count = got[2], tonumber(got[4] or '0')
local sent = tonumber(got[5] or '0') + 1
if sent > tonumber(ARGV[6]) then return {'rate-limited', ARGV[9]} end
local cap = tonumber(ARGV[8])
local connections = connections_in(got[3])
local id, timestamp, text = ARGV[3], ARGV[4], ARGV[5]
if not got[6] then
  local n = stored_count + 1
  local stored = entry(seat, id, timestamp, text)
  redis.call('HSET', KEYS[1], counter, sent, 'n', n, 'm:' .. string.format('%d', n % cap), stored,
    client_field, string.format('%d', n) .. '|' .. id .. '|' .. timestamp .. '|' .. ARGV[10])
  return {'ok', entry_parts(stored), connections}
end
-- A retry: the message stored the first time, while the ring still holds it.
redis.call('HSET', KEYS[1], counter, sent)
local first_n, first_id, first_timestamp, digest =
  string.match(got[6], '^(%d+)|([^|]*)|([^|]*)|(.*)$')
if tonumber(first_n) > stored_count - cap then
  local kept = redis.call('HGET', KEYS[1], 'm:' .. string.format('%d', tonumber(first_n) % cap))
  return {'ok', entry_parts(kept), connections}
end
if digest ~= ARGV[10] then return {'client-id-reused'} end
return {'ok', {tonumber(seat), first_id, first_timestamp, text}, connections}
