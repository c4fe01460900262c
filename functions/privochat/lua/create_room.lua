-- Creates an empty room that expires ARGV[1] seconds after ARGV[5] (now, ms; the
-- service's clock) and admits only those who prove its verifier (ARGV[2], the
-- SHA-256 of the link's join proof). The expiry is kept beside the verifier, so
-- that join and every other read answer it without a TTL command.
-- Guarantees: an existing room is never overwritten (returns 0 then); over the
-- caller's limit (ARGV[3] rooms in a window of ARGV[4] seconds, counted from the
-- caller's first creation in it, on the service's clock) nothing is created.
-- KEYS: meta, the caller's creation counter ("<window start ms> <count>"; its own
-- expiry only clears it away once the window is over)
-- Returns 1, 0, or {'rate-limited', seconds until the window ends}.
local now = tonumber(ARGV[5])
local window_ms = tonumber(ARGV[4]) * 1000
local start, count = string.match(redis.call('GET', KEYS[2]) or '', '^(%d+) (%d+)$')
start, count = tonumber(start), tonumber(count)
if not start or now >= start + window_ms or now < start then start, count = now, 0 end
if count >= tonumber(ARGV[3]) then
  return {'rate-limited', math.ceil((start + window_ms - now) / 1000)}
end
redis.call('SET', KEYS[2], string.format('%d %d', start, count + 1), 'PX', start + window_ms - now)
local expiry = string.format('%d', now + tonumber(ARGV[1]) * 1000)
if redis.call('HSETNX', KEYS[1], 'verifier', ARGV[2] .. ':' .. expiry) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
