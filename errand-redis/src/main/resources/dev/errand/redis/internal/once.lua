-- Claims a key for ttl: 1 the first time, 0 while the claim lasts.
-- KEYS: 1 key
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 ttl (ms)
local held = tonumber(redis.call('GET', KEYS[1]) or '')
local now = clockNow(ARGV[1])
if held and held > now then
  return 0
end
redis.call('SET', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), 'PX', math.max(tonumber(ARGV[2]), 1))
return 1
