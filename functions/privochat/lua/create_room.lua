-- Creates an empty room that expires after ARGV[2] seconds and admits only those
-- who prove its verifier (the SHA-256 of the link's join proof, ARGV[3]).
-- Guarantees: an existing room is never overwritten (returns 0 then); over the
-- caller's rate limit nothing is created.
-- KEYS: meta [, rate-limit counter]   ARGV: createdAt (ms), ttl (s), verifier [, limit]
-- Returns 1, 0, or {'rate-limited'}.
if over_limit(1) then return {'rate-limited'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'createdAt', ARGV[1], 'participants', 0, 'verifier', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
