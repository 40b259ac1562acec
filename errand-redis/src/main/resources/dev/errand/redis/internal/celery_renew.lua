-- Extends leases: ARGV now ('' = Redis's clock), lease ms, then pairs tag, receipt. Also moves the
-- message's score in kombu's unacked_index, so that no Celery worker restores a task Java runs.
-- Returns the tags whose receipt was stale.
local now = clockNow(ARGV[1])
local lease = tonumber(ARGV[2])
local stale = {}
for i = 3, #ARGV, 2 do
  local tag, receipt = ARGV[i], ARGV[i + 1]
  local state, count, r = parseHeld(redis.call('HGET', KEYS[3], tag))
  if state == 'L' and r == receipt then
    redis.call('ZADD', KEYS[5], now + lease, tag)
    redis.call('ZADD', KEYS[2], 'XX', seconds(now), tag)
  else
    stale[#stale + 1] = tag
  end
end
return stale
