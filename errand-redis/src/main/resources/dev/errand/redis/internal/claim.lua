-- Leases up to max ready messages of one queue. First returns expired leases to their place in
-- the queue and promotes due delayed messages, so any consumer reaps; the script is atomic, so
-- concurrent consumers never lease one message twice.
-- KEYS: 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 max, 3 lease (ms), 4 receipt prefix (unique per call)
-- Returns {flat list of id, priority, body, deliveries, receipt per message; next due (ms or -1);
--          now (ms); keys foreign values were moved to (see guard.lua);
--          flat list of id, body, meta, receipt per message whose meta is not Errand's}.
-- A message with such a meta is leased like the others but returned apart, for the broker to
-- dead-letter and ack: a crash in between leaves it leased, and it is delivered again, not lost.
guardKeys(6)
local now = clockNow(ARGV[1])
local max = tonumber(ARGV[2])
local deadline = string.format('%d', now + tonumber(ARGV[3]))
local prefix = ARGV[4]

reap(now)

-- Lease the first max: lowest score = highest priority, then FIFO.
local out, corrupt = {}, {}
local popped = call('ZPOPMIN', KEYS[1], max)
if #popped > 0 then
  local ids = {}
  for i = 1, #popped, 2 do
    ids[#ids + 1] = popped[i]
  end
  local metas = batched('HMGET', KEYS[5], ids, true)
  local bodies = batched('HMGET', KEYS[4], ids, true)
  local newMetas, leases = {}, {}
  for k, id in ipairs(ids) do
    local score = string.format('%d', tonumber(popped[2 * k]))
    local m = parseMeta(metas[k])
    local prio, deliveries, readyAt
    if m then
      prio, deliveries, readyAt = m[1], m[3] + 1, m[5]
    else
      -- not enqueued by Errand: deliver it so the worker dead-letters it
      prio = tostring(math.min(9, math.max(0, 9 - math.floor(tonumber(score) / PRIORITY_SPAN))))
      deliveries, readyAt = 1, string.format('%d', now)
    end
    local receipt = prefix .. '.' .. k
    newMetas[#newMetas + 1] = id
    newMetas[#newMetas + 1] = prio .. ',' .. score .. ',' .. deliveries .. ',' .. receipt .. ',' .. readyAt
    leases[#leases + 1] = deadline
    leases[#leases + 1] = id
    if m == false then
      corrupt[#corrupt + 1] = id
      corrupt[#corrupt + 1] = bodies[k] or ''
      corrupt[#corrupt + 1] = metas[k]
      corrupt[#corrupt + 1] = receipt
    else
      out[#out + 1] = id
      out[#out + 1] = prio
      out[#out + 1] = bodies[k] or ''
      out[#out + 1] = deliveries
      out[#out + 1] = receipt
    end
  end
  batched('HSET', KEYS[5], newMetas)
  batched('ZADD', KEYS[3], leases)
end

local nextDue = -1
if #out == 0 then
  local d = call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #d > 0 then
    nextDue = tonumber(d[2])
  end
  local l = call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if #l > 0 and (nextDue < 0 or tonumber(l[2]) < nextDue) then
    nextDue = tonumber(l[2])
  end
end
return {out, string.format('%d', nextDue), string.format('%d', now), FOREIGN, corrupt}
