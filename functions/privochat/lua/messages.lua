-- A participant's view of the messages, oldest first; with ARGV[2], only those
-- after that message (all of them if it is unknown: the client drops repeats).
-- KEYS: meta, messages   ARGV: participant, after message id ('' for none)
-- Returns {'ok', seat, {'<seat>|<message JSON>', ...}} or {refusal}.
local seat, refusal = seat_of(KEYS[1], ARGV[1])
if not seat then return {refusal} end
local all = redis.call('LRANGE', KEYS[2], 0, -1)
if ARGV[2] == '' then return {'ok', tonumber(seat), all} end
-- Stored as '<seat>|{"id":"<id>",...': the id sits right after the bar.
local marker = '|{"id":"' .. ARGV[2] .. '"'
for i = #all, 1, -1 do
  local bar = string.find(all[i], '|', 1, true)
  if string.sub(all[i], bar, bar + #marker - 1) == marker then
    local later = {}
    for j = i + 1, #all do later[#later + 1] = all[j] end
    return {'ok', tonumber(seat), later}
  end
end
return {'ok', tonumber(seat), all}
