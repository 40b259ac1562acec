-- Adds (replaces) a dead letter and indexes it by time, overall and per queue.
-- The index score is failedAt (ms) * 1024 + an insertion counter modulo 1024, so letters of the
-- same millisecond list newest-added first (exact up to 2^53, i.e. until the year 2248).
-- KEYS: 1 letters hash, 2 index of all, 3 index of its queue, 4 queue-name set, 5 counter
-- ARGV: 1 id, 2 queue, 3 failedAt (ms), 4 body, 5 prefix of queue index keys
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local oldQueue = redis.call('HGET', KEYS[1], ARGV[1] .. '\0q')
  if oldQueue and oldQueue ~= ARGV[2] then
    redis.call('ZREM', ARGV[5] .. oldQueue, ARGV[1])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4], ARGV[1] .. '\0q', ARGV[2])
local score = string.format('%d', tonumber(ARGV[3]) * 1024 + redis.call('INCR', KEYS[5]) % 1024)
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('ZADD', KEYS[3], score, ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
return 1
