-- Replaces the body of a leased message, ends the lease, resets the delivery count and makes it
-- deliverable again at notBefore.
-- KEYS: 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq
-- ARGV: 1 id, 2 receipt, 3 body, 4 notBefore (ms), 5 now (ms), 6 wake channel
-- Returns 1, or 0 if the receipt was stale.
local PRIORITY_SPAN = 4398046511104
local id = ARGV[1]
local v = redis.call('HGET', KEYS[5], id)
if not v then
  return 0
end
local p, s, d, r, t = string.match(v, '^(%d+),(%d+),(%d+),([^,]*),(%d+)$')
if r ~= ARGV[2] or redis.call('ZREM', KEYS[3], id) == 0 then
  return 0
end
redis.call('HSET', KEYS[4], id, ARGV[3])
local notBefore, now = tonumber(ARGV[4]), tonumber(ARGV[5])
if notBefore > now then
  redis.call('ZADD', KEYS[2], notBefore, id)
  redis.call('HSET', KEYS[5], id, p .. ',0,0,,' .. string.format('%d', notBefore))
else
  local score = string.format('%d', (9 - tonumber(p)) * PRIORITY_SPAN + redis.call('INCR', KEYS[6]))
  redis.call('ZADD', KEYS[1], score, id)
  redis.call('HSET', KEYS[5], id, p .. ',' .. score .. ',0,,' .. string.format('%d', now))
  redis.call('PUBLISH', ARGV[6], '')
end
return 1
