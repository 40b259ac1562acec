-- Writes a schedule if its stored version is the expected one ('0': not stored yet).
-- Versions are compared as text: they are integers as Redis wrote them, and text never rounds.
-- KEYS: 1 bodies, 2 versions, 3 version counter, 4 change counter
-- ARGV: 1 name, 2 body, 3 expected version, 4 change channel
-- Returns the new version, or 0 if the stored version differed.
local current = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
if current ~= ARGV[3] then
  return 0
end
local version = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], version)
redis.call('PUBLISH', ARGV[4], redis.call('INCR', KEYS[4]))
return version
