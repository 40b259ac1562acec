-- Removes a dead letter. KEYS: 1 letters hash, 2 index of all. ARGV: 1 id, 2 prefix of queue index keys
local queue = redis.call('HGET', KEYS[1], ARGV[1] .. '\0q')
if not redis.call('HGET', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. '\0q')
redis.call('ZREM', KEYS[2], ARGV[1])
if queue then
  redis.call('ZREM', ARGV[2] .. queue, ARGV[1])
end
return 1
