-- Gives the caller a seat if it proves the room's key. Guarantees, atomically:
-- a wrong proof changes nothing; at most ARGV[2] distinct participants ever hold
-- a seat; a participant who joins again keeps theirs.
-- The proof arrives hashed (ARGV[3]): equality of two hashes, one of them of the
-- caller's own guess, leaks nothing useful through timing.
-- KEYS: meta   ARGV: participant, max participants, SHA-256 of the proof
-- Returns {'ok', seat, participants, expiry (ms), hello of seat 1, hello of seat 2}
-- or {refusal}.
local got = redis.call('HMGET', KEYS[1], 'verifier', 'p:' .. ARGV[1], 'seats', 'hello:1', 'hello:2')
if not got[1] then return {'room-not-found'} end
local verifier, expiry = split_verifier(got[1])
if verifier ~= ARGV[3] then return {'wrong-key'} end
local seat, seats = got[2], tonumber(got[3] or '0')
if not seat then
  if seats >= tonumber(ARGV[2]) then return {'room-full'} end
  seats = seats + 1
  seat = seats
  redis.call('HSET', KEYS[1], 'p:' .. ARGV[1], seat, 'seats', seats)
end
return {'ok', tonumber(seat), seats, expiry, got[4], got[5]}
