-- Returns a leased message to its original place and takes back its delivery count.
-- KEYS: 1 ready, 2 leased, 3 meta
-- ARGV: 1 id, 2 receipt, 3 wake channel
-- Returns 1, or 0 if the receipt was stale.
local id = ARGV[1]
local v = redis.call('HGET', KEYS[3], id)
if not v then
  return 0
end
local p, s, d, r, t = string.match(v, '^(%d+),(%d+),(%d+),([^,]*),(%d+)$')
if r ~= ARGV[2] or redis.call('ZREM', KEYS[2], id) == 0 then
  return 0
end
redis.call('HSET', KEYS[3], id, p .. ',' .. s .. ',' .. math.max(tonumber(d) - 1, 0) .. ',,' .. t)
redis.call('ZADD', KEYS[1], s, id)
redis.call('PUBLISH', ARGV[3], '')
return 1
