-- Deletes a schedule if its stored version is the expected one, or whatever it is if '0'.
-- The version counter stays, so a later create of the same name gets a higher version.
-- KEYS: 1 bodies, 2 versions, 3 version counter (left alone), 4 change counter
-- ARGV: 1 name, 2 expected version, 3 change channel
-- Returns 1 if deleted, 0 if absent or the version differed.
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current or (ARGV[2] ~= '0' and current ~= ARGV[2]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], redis.call('INCR', KEYS[4]))
return 1
