-- A participant's page of the messages, oldest first: at most ARGV[3], from the
-- start or after message ARGV[2] (from the start if that one is unknown: the
-- client drops repeats), from the room's ring (lib.lua) of ARGV[4] slots, each
-- entry answered as its parts. Billed: EVALSHA and two HMGETs.
-- KEYS: meta   ARGV: participant, after message id ('' for none), page size, history cap
-- Returns {'ok', seat, page ({seat, id, timestamp, text} each), 1 if more follow else 0,
-- hello of seat 1, hello of seat 2}
-- or {refusal}.
local got, refusal = seat_and(KEYS[1], ARGV[1], 'hello:1', 'hello:2', 'n')
if not got then return {refusal} end
local n, cap, size = tonumber(got[5] or '0'), tonumber(ARGV[4]), tonumber(ARGV[3])
local first = math.max(1, n - cap + 1)
local function slots(from, to)
  local names = {}
  for s = from, to do names[#names + 1] = 'm:' .. string.format('%d', s % cap) end
  if #names == 0 then return {} end
  return redis.call('HMGET', KEYS[1], unpack(names))
end
local page
if ARGV[2] ~= '' and n >= first then
  -- Every kept entry in one read; the page is cut from it.
  local all = slots(first, n)
  local start = 1
  for i = #all, 1, -1 do
    if entry_parts(all[i])[2] == ARGV[2] then
      start = i + 1
      break
    end
  end
  page = {}
  for i = start, math.min(#all, start + size) do page[#page + 1] = all[i] end
else
  page = slots(first, math.min(n, first + size))
end
local more = 0
if #page > size then
  page[#page] = nil
  more = 1
end
for i = 1, #page do page[i] = entry_parts(page[i]) end
return {'ok', tonumber(got[2]), page, more, got[3], got[4]}
