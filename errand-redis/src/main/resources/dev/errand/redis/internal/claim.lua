-- Leases up to max ready messages of one queue. First returns expired leases to their place in
-- the queue and promotes due delayed messages, so any consumer reaps; the script is atomic, so
-- concurrent consumers never lease one message twice.
-- KEYS: 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq
-- ARGV: 1 now (ms), 2 max, 3 lease (ms), 4 receipt prefix (unique per call)
-- Meta of a message: 'priority,score,deliveries,receipt,readyAt'.
-- Returns {flat list of id, priority, body, deliveries, receipt per message, next due (ms or -1)},
-- or {{}, -1, key} after moving a key of the wrong type (not written by Errand) to `key`.
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local deadline = string.format('%d', now + tonumber(ARGV[3]))
local prefix = ARGV[4]

local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'zset' and kind ~= 'none' then
  local quarantine = KEYS[1] .. ':foreign:' .. string.format('%d', now)
  redis.call('RENAME', KEYS[1], quarantine)
  return {{}, -1, quarantine}
end

reap(now)

-- Lease the first max: lowest score = highest priority, then FIFO.
local out = {}
local popped = redis.call('ZPOPMIN', KEYS[1], max)
for i = 1, #popped, 2 do
  local id, score = popped[i], string.format('%d', tonumber(popped[i + 1]))
  local m = meta(id)
  local prio, deliveries, readyAt
  if m then
    prio, deliveries, readyAt = m[1], m[3] + 1, m[5]
  else
    -- not enqueued by Errand: deliver it so the worker dead-letters it
    prio = tostring(math.min(9, math.max(0, 9 - math.floor(tonumber(score) / PRIORITY_SPAN))))
    deliveries, readyAt = 1, string.format('%d', now)
  end
  local receipt = prefix .. '.' .. ((i + 1) / 2)
  redis.call('HSET', KEYS[5], id, prio .. ',' .. score .. ',' .. deliveries .. ',' .. receipt .. ',' .. readyAt)
  redis.call('ZADD', KEYS[3], deadline, id)
  out[#out + 1] = id
  out[#out + 1] = prio
  out[#out + 1] = redis.call('HGET', KEYS[4], id) or ''
  out[#out + 1] = deliveries
  out[#out + 1] = receipt
end

local nextDue = -1
if #out == 0 then
  local d = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #d > 0 then
    nextDue = tonumber(d[2])
  end
  local l = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if #l > 0 and (nextDue < 0 or tonumber(l[2]) < nextDue) then
    nextDue = tonumber(l[2])
  end
end
return {out, string.format('%d', nextDue)}
