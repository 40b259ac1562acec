-- Parks held messages whose eta is still ahead: they stay held (and in kombu's unacked hash, as a
-- Celery worker keeps an eta task) until ARGV[2+3k] ms, then the next claim puts them back.
-- ARGV: now, then triples tag, receipt, eta ms. Returns the tags whose receipt was stale.
local stale = {}
for i = 2, #ARGV, 3 do
  local tag, receipt, eta = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local state, count, r, key, suffix = parseHeld(redis.call('HGET', KEYS[3], tag))
  if state == 'L' and r == receipt then
    -- waiting for its eta is not a failed delivery: the count goes back
    redis.call('HSET', KEYS[3], tag, 'P ' .. math.max(0, count - 1) .. ' ' .. r .. ' ' .. suffix .. ' ' .. key)
    redis.call('ZADD', KEYS[5], eta, tag)
  else
    stale[#stale + 1] = tag
  end
end
return stale
