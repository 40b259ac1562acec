-- Shared by the scripts that read a queue (prepended to them): parsing of message metadata and
-- reaping. Expects KEYS 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq.
local PRIORITY_SPAN = 4398046511104 -- 2^42 sequence numbers per priority band
local REAP_LIMIT = 1000

-- {priority, score, deliveries, receipt, readyAt} of a stored meta value, nil if not one.
local function parseMeta(v)
  if not v then
    return nil
  end
  local p, s, d, r, t = string.match(v, '^(%d+),(%d+),(%d+),([^,]*),(%d+)$')
  if not p then
    return nil
  end
  return {p, s, tonumber(d), r, t}
end

local function meta(id)
  return parseMeta(redis.call('HGET', KEYS[5], id))
end

local function reap(now)
  -- Leases that ran out: back to their original place, receipt cleared (the old one is stale).
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, REAP_LIMIT)
  for _, id in ipairs(expired) do
    redis.call('ZREM', KEYS[3], id)
    local m = meta(id)
    if m then
      redis.call('ZADD', KEYS[1], m[2], id)
      redis.call('HSET', KEYS[5], id, m[1] .. ',' .. m[2] .. ',' .. m[3] .. ',,' .. m[5])
    else
      redis.call('ZADD', KEYS[1], 0, id)
    end
  end

  -- Delayed messages that are due join the back of their priority band.
  local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, REAP_LIMIT)
  for i = 1, #due, 2 do
    local id = due[i]
    redis.call('ZREM', KEYS[2], id)
    local m = meta(id)
    local prio = m and tonumber(m[1]) or 0
    local score = string.format('%d', (9 - prio) * PRIORITY_SPAN + redis.call('INCR', KEYS[6]))
    redis.call('ZADD', KEYS[1], score, id)
    redis.call('HSET', KEYS[5], id,
      prio .. ',' .. score .. ',' .. (m and m[3] or 0) .. ',,' .. string.format('%d', tonumber(due[i + 1])))
  end
end
