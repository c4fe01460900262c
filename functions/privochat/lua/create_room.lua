-- Creates an empty room that expires ARGV[1] seconds after ARGV[5] (now, ms; the
-- service's clock) and admits only those who prove its verifier (ARGV[2], the
-- SHA-256 of the link's join proof). The expiry is kept beside the verifier, so
-- that join and every other read answer it without a TTL command.
-- Guarantees: an existing room is never overwritten (returns 0 then); over the
-- caller's limit (ARGV[3] rooms in a window of ARGV[4] seconds, counted from the
-- caller's first creation in it) nothing is created.
-- KEYS: meta, the caller's creation counter
-- Returns 1, 0, or {'rate-limited', seconds until the window ends}.
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
if count > tonumber(ARGV[3]) then return {'rate-limited', redis.call('TTL', KEYS[2])} end
local expiry = string.format('%d', tonumber(ARGV[5]) + tonumber(ARGV[1]) * 1000)
if redis.call('HSETNX', KEYS[1], 'verifier', ARGV[2] .. ':' .. expiry) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
