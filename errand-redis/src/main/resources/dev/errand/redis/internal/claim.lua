-- Leases up to max ready messages of one queue. First returns expired leases to their place in
-- the queue and promotes due delayed messages, so any consumer reaps; the script is atomic, so
-- concurrent consumers never lease one message twice.
-- KEYS: 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq, 7 paused flag
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
local prefix = ARGV[4] .. '.'

-- A paused queue gives nothing and names no due time: resuming it publishes a wake-up.
if redis.call('EXISTS', KEYS[7]) == 1 then
  return {{}, '-1', string.format('%d', now), FOREIGN, {}}
end

reap(now)

-- Held messages whose limit key is due first (they waited for their turn), then the first of ready:
-- lowest score = highest priority, then FIFO.
local out, corrupt = {}, {}
local B = queueBase(KEYS[1])
local popped = limTake(B, now, max)
if #popped < 2 * max then
  local more = call('ZPOPMIN', KEYS[1], max - #popped / 2)
  for i = 1, #more do
    popped[#popped + 1] = more[i]
  end
end
if #popped > 0 then
  local ids = {}
  for i = 1, #popped, 2 do
    ids[(i + 1) / 2] = popped[i]
  end
  local metas = batched('HMGET', KEYS[5], ids, true)
  local bodies = batched('HMGET', KEYS[4], ids, true)
  -- Plain counters instead of # (a table's length is a search in Lua 5.1): this loop runs for every
  -- message claimed.
  local newMetas, leases, nm, nl, no = {}, {}, 0, 0, 0
  local format = string.format
  for k, id in ipairs(ids) do
    local sc = popped[2 * k]
    local receipt = prefix .. k
    local m = parseMeta(metas[k])
    local prio, deliveries, readyAt, score
    if m then
      -- a first delivery is the common case: no number formatting for it
      prio, deliveries, readyAt = m[1], m[3] == 0 and '1' or m[3] + 1, m[5]
      -- the meta's score is the text Redis replies for it (an integer below 2^53): no reformatting
      score = sc == m[2] and m[2] or format('%d', tonumber(sc))
    else
      -- not enqueued by Errand: deliver it so the worker dead-letters it
      score = format('%d', tonumber(sc))
      prio = tostring(math.min(9, math.max(0, 9 - math.floor(tonumber(score) / PRIORITY_SPAN))))
      deliveries, readyAt = 1, format('%d', now)
    end
    newMetas[nm + 1] = id
    newMetas[nm + 2] = prio .. ',' .. score .. ',' .. deliveries .. ',' .. receipt .. ',' .. readyAt
    nm = nm + 2
    leases[nl + 1] = deadline
    leases[nl + 2] = id
    nl = nl + 2
    if m == false then
      corrupt[#corrupt + 1] = id
      corrupt[#corrupt + 1] = bodies[k] or ''
      corrupt[#corrupt + 1] = metas[k]
      corrupt[#corrupt + 1] = receipt
    else
      out[no + 1] = id
      out[no + 2] = prio
      out[no + 3] = bodies[k] or ''
      out[no + 4] = deliveries
      out[no + 5] = receipt
      no = no + 5
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
  local k = fcall('ZRANGE', B .. 'ldue', 0, 0, 'WITHSCORES')
  if #k > 0 and (nextDue < 0 or tonumber(k[2]) < nextDue) then
    nextDue = math.max(tonumber(k[2]), now + 1)
  end
end
return {out, string.format('%d', nextDue), string.format('%d', now), FOREIGN, corrupt}
