-- A participant's page of the messages, oldest first: at most ARGV[3], from the
-- start or after message ARGV[2] (from the start if that one is unknown: the
-- client drops repeats). Entries are '<seat>|<id>|<timestamp>|<text>'.
-- KEYS: meta, messages   ARGV: participant, after message id ('' for none), page size
-- Returns {'ok', seat, page, 1 if more follow else 0, hello of seat 1, hello of seat 2}
-- or {refusal}.
local got, refusal = seat_and(KEYS[1], ARGV[1], 'hello:1', 'hello:2')
if not got then return {refusal} end
local start = 0
if ARGV[2] ~= '' then
  local all = redis.call('LRANGE', KEYS[2], 0, -1)
  local marker = '|' .. ARGV[2] .. '|'
  for i = #all, 1, -1 do
    local bar = string.find(all[i], '|', 1, true)
    if string.sub(all[i], bar, bar + #marker - 1) == marker then
      start = i  -- the 0-based index of the next entry
      break
    end
  end
end
local size = tonumber(ARGV[3])
local page = redis.call('LRANGE', KEYS[2], start, start + size)
local more = 0
if #page > size then
  page[#page] = nil
  more = 1
end
return {'ok', tonumber(got[2]), page, more, got[3], got[4]}
