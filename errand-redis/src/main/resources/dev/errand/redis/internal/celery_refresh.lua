-- Keeps kombu's unacked_index scores of every message Java holds (leased or parked) recent, so
-- that a Celery worker's visibility-timeout restore never takes one (an eta further away than
-- the visibility timeout included, which Celery itself duplicates). ARGV: now.
local now = clockNow(ARGV[1])
local tags = redis.call('ZRANGEBYSCORE', KEYS[5], now, '+inf', 'LIMIT', 0, 10000)
local nowSec = seconds(now)
for _, tag in ipairs(tags) do
  redis.call('ZADD', KEYS[2], 'XX', nowSec, tag)
end
return #tags
