-- Removes a group's leader lease if the candidate holds it (live or not).
-- KEYS: 1 leases
-- ARGV: 1 group, 2 candidate
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and string.sub(held, string.find(held, '\n', 1, true) + 1) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
