-- Records one chord member's part, on Redis Cluster, where settle.lua cannot reach the chord's slot
-- (SlotSettler applies it from the settlement's outbox entry). The same rule as settle.lua's
-- recordPart: recorded by index, so recording a part again replaces it and never counts twice; a
-- part for a chord not stored yet waits under a placeholder; an index >= size is dropped. The part
-- that completed the chord is remembered ('firedBy'): recorded again (its outbox entry applied again
-- after a crash cut the first application short) it returns the callback again, which the caller
-- enqueues unless it is in its queue already.
-- KEYS: 1 chord hash, 2 parts hash
-- ARGV: 1 the backend clock's now (ms), 2 ttl (ms), 3 member index, 4 '1' if the member failed
-- Returns {} or the callback {queue, id, priority, body, notBefore, key, window}.
local storeNow, ttl = tonumber(ARGV[1]), ARGV[2]
local index, new = ARGV[3], ARGV[4] == '1' and '1' or '0'
local f = redis.call('HMGET', KEYS[1], 'expiresAt', 'size', 'policy', 'failed', 'firing', 'firedBy')
if not (f[1] and tonumber(f[1]) > storeNow) then
  -- absent, or expired by the backend's clock: a new placeholder holds the part
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'expiresAt', string.format('%d', storeNow + tonumber(ttl)),
    'failed', new == '1' and 1 or 0)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('HSET', KEYS[2], index, new)
  redis.call('PEXPIRE', KEYS[2], ttl)
  return {}
end
local size = f[2] and tonumber(f[2])
if size and tonumber(index) >= size then
  return {} -- not a member of this chord: counting it could fire the chord early
end
local old = redis.call('HGET', KEYS[2], index)
local failed = tonumber(f[4] or '0') + (new == '1' and 1 or 0) - (old == '1' and 1 or 0)
local pttl = nil
if redis.call('EXISTS', KEYS[2]) == 0 then
  pttl = redis.call('PTTL', KEYS[1]) -- the first part creates the parts key: it expires with the chord
end
redis.call('HSET', KEYS[2], index, new)
if pttl and pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl)
end
local fire = false
if size and redis.call('HLEN', KEYS[2]) >= size then
  local firing = f[5]
  if firing == 'NOT_YET' or (f[3] == 'FAIL' and firing == 'WITH_FAILURES' and failed == 0) then
    firing = failed == 0 and 'ALL_SUCCEEDED' or 'WITH_FAILURES'
    redis.call('HSET', KEYS[1], 'failed', failed, 'firing', firing, 'firedBy', index)
    fire = true
  else
    redis.call('HSET', KEYS[1], 'failed', failed)
    fire = old == new and f[6] == index
  end
else
  redis.call('HSET', KEYS[1], 'failed', failed)
end
if fire then
  return redis.call('HMGET', KEYS[1],
    'cb.queue', 'cb.id', 'cb.priority', 'cb.body', 'cb.notBefore', 'cb.key', 'cb.window')
end
return {}
