-- Applies settlements: for each, the receipt check and ending, then result records and follow-up
-- messages, only while the receipt is current.
-- ARGV: dc prefix, then per settlement: tag, receipt, ending ('A' ack, 'R' retry, 'L' release,
-- 'K' keep, '-' none), retry list key, retry envelope, n, n triples (result key, JSON, ttl s),
-- m, m pairs (list key, envelope).
-- A SUCCESS record is never overwritten (Celery's rule). Returns the 1-based positions of the
-- settlements whose receipt was stale.
local dcPrefix = ARGV[1]
local stale = {}
local i = 2
local s = 0
while i <= #ARGV do
  s = s + 1
  local tag, receipt, ending = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local retryKey, retryEnv = ARGV[i + 3], ARGV[i + 4]
  local nm = tonumber(ARGV[i + 5])
  local metas = i + 6
  local np = tonumber(ARGV[metas + 3 * nm])
  local pushes = metas + 3 * nm + 1
  i = pushes + 2 * np
  local current = true
  if ending ~= '-' then
    local state, count, r, key, suffix = parseHeld(redis.call('HGET', KEYS[3], tag))
    if state ~= 'L' or r ~= receipt then
      current = false
      stale[#stale + 1] = s
    elseif ending == 'L' then
      restore(tag, key, count - 1, dcPrefix, suffix)
    elseif ending == 'A' then
      forget(tag)
    elseif ending == 'R' then
      forget(tag)
      redis.call('LPUSH', retryKey, retryEnv)
    end
  end
  if current then
    for k = 0, nm - 1 do
      local key, json, ttl = ARGV[metas + 3 * k], ARGV[metas + 3 * k + 1], tonumber(ARGV[metas + 3 * k + 2])
      local old = redis.call('GET', key)
      if not (old and string.find(string.sub(old, 1, 64), '^%s*{%s*"status"%s*:%s*"SUCCESS"')) then
        if ttl > 0 then
          redis.call('SET', key, json, 'EX', ttl)
        else
          redis.call('SET', key, json)
        end
        redis.call('PUBLISH', key, json)
      end
    end
    for k = 0, np - 1 do
      redis.call('LPUSH', ARGV[pushes + 2 * k], ARGV[pushes + 2 * k + 1])
    end
  end
end
return stale
