-- The limit keys of one queue in use, for inspection: busy ones (messages held or leased) first,
-- then idle ones whose rate has not recovered yet; forgets the entries of expired keys first.
-- KEYS: 1 ready (the queue's base is derived from it)
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 max
-- Returns a flat list of key, p, per, b, c, tat, run, held per key.
local now = clockNow(ARGV[1])
local B = queueBase(KEYS[1])
redis.call('ZREMRANGEBYSCORE', B .. 'lkeys', '-inf', now)
local out = {}
for _, key in ipairs(redis.call('ZREVRANGE', B .. 'lkeys', 0, tonumber(ARGV[2]) - 1)) do
  local v = redis.call('HMGET', B .. 'lim:' .. key, 'p', 'per', 'b', 'c', 'tat', 'run', 'held')
  if v[1] then
    out[#out + 1] = key
    for i = 1, 7 do
      out[#out + 1] = v[i]
    end
  else
    redis.call('ZREM', B .. 'lkeys', key)
  end
end
return out
