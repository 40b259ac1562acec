-- Enqueues messages into one queue, each atomically with its idempotency key.
-- KEYS: 1 ready, 2 delayed, 3 body, 4 meta, 5 seq, 6.. idempotency keys
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 wake channel, 3 count, then per message:
--       id, priority, body, notBefore (ms, 0 = now), idempotency key index (0 = none), window (ms)
-- Returns {one string per message: '' when enqueued, else the id that holds the key;
--          keys foreign values were moved to (see guard.lua)}.
guardKeys(#KEYS)
local now = clockNow(ARGV[1])
local n = tonumber(ARGV[3])
local nowText = string.format('%d', now)
local out = {}

-- 'expiresAt|id' of the message holding an idempotency key; a value Errand did not write there is
-- moved aside (and so frees the key).
local function keyHolder(key)
  local held = call('GET', key)
  if not held then
    return nil
  end
  local expires, id = string.match(held, '^(%d+)|(.+)$')
  if not expires then
    moveAside(key)
    return nil
  end
  if tonumber(expires) > now then
    return id
  end
  return nil
end

-- First decide which messages go in (idempotency keys), then write them all in a few calls.
local bodies, metas, ready, delayed = {}, {}, {}, {}
local readyIds = {}
for i = 0, n - 1 do
  local b = 4 + i * 6
  local id, prio, body = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local notBefore, keyIndex, window = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local holder = nil
  if keyIndex > 0 then
    holder = keyHolder(KEYS[keyIndex])
    if not holder then
      redis.call('SET', KEYS[keyIndex], string.format('%d', now + window) .. '|' .. id,
        'PX', math.max(window, 1))
    end
  end
  if holder then
    out[#out + 1] = holder
  else
    out[#out + 1] = ''
    bodies[#bodies + 1] = id
    bodies[#bodies + 1] = body
    if notBefore > now then
      local due = string.format('%d', notBefore)
      delayed[#delayed + 1] = due
      delayed[#delayed + 1] = id
      metas[#metas + 1] = id
      metas[#metas + 1] = prio .. ',0,0,,' .. due
    else
      readyIds[#readyIds + 1] = {id, tonumber(prio)}
    end
  end
end

if #readyIds > 0 then
  -- Sequence numbers in message order keep FIFO within a priority.
  local seq = nextSeq(KEYS[5], #readyIds) - #readyIds
  for i, m in ipairs(readyIds) do
    local score = string.format('%d', (9 - m[2]) * PRIORITY_SPAN + seq + i)
    ready[#ready + 1] = score
    ready[#ready + 1] = m[1]
    metas[#metas + 1] = m[1]
    metas[#metas + 1] = m[2] .. ',' .. score .. ',0,,' .. nowText
  end
end
if #bodies > 0 then
  batched('HSET', KEYS[3], bodies)
  batched('HSET', KEYS[4], metas)
end
if #delayed > 0 then
  batched('ZADD', KEYS[2], delayed)
end
if #ready > 0 then
  batched('ZADD', KEYS[1], ready)
  redis.call('PUBLISH', ARGV[2], '')
end
return {out, FOREIGN}
