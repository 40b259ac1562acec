-- Deletes the ready, delayed and held messages of one queue; leased ones finish normally.
-- KEYS: 1 ready, 2 delayed, 3 body, 4 meta
-- ARGV: 1 now (ms, or '' for Redis's clock)
-- Returns {how many were deleted, keys foreign values were moved to (see guard.lua)}.
guardKeys(4)
local now = clockNow(ARGV[1])
local B = queueBase(KEYS[1])
local count = 0

local function drop(ids, leased)
  for i = 1, #ids, 1000 do
    local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
    call('HDEL', KEYS[3], unpack(chunk))
    call('HDEL', KEYS[4], unpack(chunk))
    -- a ready one may be a lease that ran out: it held a place in its key's concurrency
    flowRemoved(B, chunk, now, leased)
  end
  count = count + #ids
end

drop(call('ZRANGE', KEYS[1], 0, -1), true)
call('DEL', KEYS[1])
drop(call('ZRANGE', KEYS[2], 0, -1), false)
call('DEL', KEYS[2])
-- the held messages of every key in use
for _, key in ipairs(fcall('ZRANGEBYSCORE', B .. 'lkeys', LIM_BUSY, LIM_BUSY)) do
  local held = fcall('ZRANGE', B .. 'held:' .. key, 0, -1)
  if #held > 0 then
    fcall('DEL', B .. 'held:' .. key)
    drop(held, false)
    local s = limLoad(B, key, nil)
    if s then
      s.held = 0
      limSave(B, s, now)
    end
  end
end
redis.call('DEL', B .. 'limited')
return {count, FOREIGN}
