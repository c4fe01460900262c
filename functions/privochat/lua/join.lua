-- Gives the caller a seat if it proves the room's key. Guarantees, atomically:
-- a wrong proof changes nothing; at most ARGV[2] distinct participants ever hold
-- a seat; a participant who joins again keeps theirs.
-- The proof arrives hashed (ARGV[3]): equality of two hashes, one of them of the
-- caller's own guess, leaks nothing useful through timing.
-- KEYS: meta   ARGV: participant, max participants, SHA-256 of the proof
-- Returns {'ok', seat, participants, ttl, hello of seat 1, hello of seat 2} or {refusal}.
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then return {'room-not-found'} end
if redis.call('HGET', KEYS[1], 'verifier') ~= ARGV[3] then return {'wrong-key'} end
local seat = redis.call('HGET', KEYS[1], ARGV[1])
local participants = tonumber(redis.call('HGET', KEYS[1], 'participants'))
if not seat then
  if participants >= tonumber(ARGV[2]) then return {'room-full'} end
  participants = participants + 1
  seat = participants
  redis.call('HSET', KEYS[1], ARGV[1], seat, 'participants', participants)
end
local hellos = redis.call('HMGET', KEYS[1], 'hello:1', 'hello:2')
return {'ok', tonumber(seat), participants, ttl, hellos[1], hellos[2]}
