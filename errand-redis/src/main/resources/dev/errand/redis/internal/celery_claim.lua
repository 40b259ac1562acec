-- Claims up to ARGV[2] Celery messages. First, leases that ran out and parked messages now due go
-- back to the front of their list; then messages are popped from KEYS[6..] (a queue's four
-- priority lists, most urgent first, queue after queue) and recorded as held, in kombu's unacked
-- hash too, in the same script: no message is ever out of Redis's records, unlike a BRPOP followed
-- by a MULTI (Celery's own window).
-- ARGV: now ('' = Redis's clock), max, lease ms, receipt nonce, dc prefix, paused-set key,
--       then for each list KEYS[i], i >= 6: ARGV[i + 1] = the name of its queue.
-- Returns {queue, raw, receipt, tag, count} per message.
local now = clockNow(ARGV[1])
local max = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local nonce = ARGV[4]
local dcPrefix = ARGV[5]
local paused = ARGV[6] ~= '' and redis.call('SMEMBERS', ARGV[6]) or {}
local pausedSet = {}
for _, q in ipairs(paused) do
  pausedSet[q] = true
end

local due = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 200)
for _, tag in ipairs(due) do
  local state, count, receipt, key, suffix = parseHeld(redis.call('HGET', KEYS[3], tag))
  if state then
    restore(tag, key, count, dcPrefix, suffix)
  else
    forget(tag)
  end
end

local out = {}
local n = 0
local nowSec = seconds(now)
for i = 6, #KEYS do
  if n >= max then
    break
  end
  local key = KEYS[i]
  local queue = ARGV[i + 1]
  if not pausedSet[queue] then
    while n < max do
      local ok, raw = pcall(redis.call, 'RPOP', key)
      if not ok or not raw then
        break
      end
      n = n + 1
      local receipt = nonce .. '-' .. n
      local decoded, env = pcall(cjson.decode, raw)
      local tag, ex, rk, redelivered
      if decoded and type(env) == 'table' and type(env.properties) == 'table' then
        local p = env.properties
        if type(p.delivery_tag) == 'string' and p.delivery_tag ~= '' and #p.delivery_tag <= 200
            and not string.find(p.delivery_tag, '%s') then
          tag = p.delivery_tag
        end
        if type(p.delivery_info) == 'table' then
          ex = p.delivery_info.exchange
          rk = p.delivery_info.routing_key
        end
        redelivered = type(env.headers) == 'table' and env.headers.redelivered == true
      end
      -- A message without a usable tag, or pushed twice, gets a tag of its own.
      if not tag or redis.call('HEXISTS', KEYS[3], tag) == 1 then
        tag = 'errand-' .. receipt
      end
      local count = 1
      local dc = redis.call('GET', dcPrefix .. tag)
      if dc then
        count = tonumber(dc) + 1
        redis.call('DEL', dcPrefix .. tag)
      elseif redelivered then
        count = 2
      end
      local suffix = 0
      if type(ex) == 'string' and type(rk) == 'string' then
        -- kombu's own record, so that a Celery worker restores it if no Java worker is left; the
        -- envelope is cut back out of it for a restore of ours
        local tail = ', ' .. cjson.encode(ex) .. ', ' .. cjson.encode(rk) .. ']'
        suffix = #tail
        redis.call('HSET', KEYS[1], tag, '[' .. raw .. tail)
        redis.call('ZADD', KEYS[2], nowSec, tag)
      else
        redis.call('HSET', KEYS[4], tag, raw)
      end
      redis.call('HSET', KEYS[3], tag, 'L ' .. count .. ' ' .. receipt .. ' ' .. suffix .. ' ' .. key)
      redis.call('ZADD', KEYS[5], now + lease, tag)
      out[#out + 1] = {queue, raw, receipt, tag, count}
    end
  end
end
return out
