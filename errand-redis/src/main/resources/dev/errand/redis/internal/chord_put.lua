-- Stores a chord unless it exists (see WorkflowStore.putChord). Parts settled before it was stored
-- wait in its parts hash under a placeholder (a chord hash without 'size', see settle.lua): they
-- count, but for indexes >= size, which are dropped. Expiry is by the backend's clock ('expiresAt'),
-- and Redis drops the keys at the same ttl.
-- KEYS: 1 chord hash, 2 parts hash
-- ARGV: 1 now (ms), 2 ttl (ms), 3 size, 4 policy, then the callback message: 5 id, 6 queue,
--       7 priority, 8 body, 9 notBefore (ms, 0 = now), 10 idempotency key ('' for none),
--       11 window (ms)
-- Returns 1 if stored, 0 if the chord existed.
local f = redis.call('HMGET', KEYS[1], 'expiresAt', 'size')
local live = f[1] and tonumber(f[1]) > tonumber(ARGV[1])
if live and f[2] then
  return 0
end
local size = tonumber(ARGV[3])
local failed = 0
if live then
  local parts = redis.call('HGETALL', KEYS[2])
  local drop = {}
  for i = 1, #parts, 2 do
    if tonumber(parts[i]) >= size then
      drop[#drop + 1] = parts[i]
    elseif parts[i + 1] == '1' then
      failed = failed + 1
    end
  end
  if #drop > 0 then
    batched('HDEL', KEYS[2], drop)
  end
else
  redis.call('DEL', KEYS[1], KEYS[2]) -- expired by the backend's clock, maybe not yet by Redis's
end
redis.call('HSET', KEYS[1],
  'expiresAt', string.format('%d', tonumber(ARGV[1]) + tonumber(ARGV[2])),
  'size', ARGV[3], 'policy', ARGV[4], 'failed', failed, 'firing', 'NOT_YET',
  'cb.id', ARGV[5], 'cb.queue', ARGV[6], 'cb.priority', ARGV[7], 'cb.body', ARGV[8],
  'cb.notBefore', ARGV[9], 'cb.key', ARGV[10], 'cb.window', ARGV[11])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
