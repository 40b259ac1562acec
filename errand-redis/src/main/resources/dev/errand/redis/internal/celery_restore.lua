-- Restores one message a Celery worker left in kombu's unacked hash past the visibility timeout
-- (kombu's restore_visible, for when no Celery worker is left to do it): only if the entry is
-- still the one read (ARGV[2]) and no Java worker holds it. KEYS[6]: the list to push to.
-- ARGV: tag, the entry as read, the envelope to push (marked redelivered). Returns 1 if restored.
local tag = ARGV[1]
if redis.call('HEXISTS', KEYS[3], tag) == 1 then
  return 0
end
if redis.call('HGET', KEYS[1], tag) ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2], tag)
redis.call('HDEL', KEYS[1], tag)
redis.call('RPUSH', KEYS[6], ARGV[3])
return 1
