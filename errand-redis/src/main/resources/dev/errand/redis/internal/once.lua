-- Claims a key for ttl: 1 the first time, 0 while the claim lasts (by the caller's clock).
-- KEYS: 1 key
-- ARGV: 1 now (ms), 2 ttl (ms)
local held = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
if held and tonumber(held) > now then
  return 0
end
redis.call('SET', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), 'PX', math.max(tonumber(ARGV[2]), 1))
return 1
