-- Counts of one queue.
-- Returns expired leases and due delayed messages to the ready set first, so counts are as of now.
-- KEYS: 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq, 7 paused flag
-- ARGV: 1 now (ms, or '' for Redis's clock)
-- Returns {ready, leased, delayed, ready of priority 0 .. 9, oldest readyAt (ms or -1),
--          keys foreign values were moved to (see guard.lua), 1 if paused else 0,
--          messages held by their limit keys}.
guardKeys(6)
reap(clockNow(ARGV[1]))
local out = {call('ZCARD', KEYS[1]), call('ZCARD', KEYS[3]), call('ZCARD', KEYS[2])}
local oldest = -1
for prio = 0, 9 do
  local low = (9 - prio) * PRIORITY_SPAN
  local high = '(' .. string.format('%d', low + PRIORITY_SPAN)
  if prio == 9 then
    low = '-inf'
  end
  out[#out + 1] = call('ZCOUNT', KEYS[1], low, high)
  local head = call('ZRANGEBYSCORE', KEYS[1], low, high, 'LIMIT', 0, 1)
  if #head > 0 then
    local v = call('HGET', KEYS[5], head[1])
    local t = v and tonumber(string.match(v, ',(%d+)$'))
    if t and (oldest < 0 or t < oldest) then
      oldest = t
    end
  end
end
out[#out + 1] = oldest
out[#out + 1] = FOREIGN
out[#out + 1] = redis.call('EXISTS', KEYS[7])
local held = redis.pcall('GET', queueBase(KEYS[1]) .. 'limited') -- garbage there counts as none
out[#out + 1] = type(held) == 'string' and (tonumber(held) or 0) or 0
return out
