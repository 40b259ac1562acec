-- Enqueues messages into one queue, each atomically with its idempotency key.
-- KEYS: 1 ready, 2 delayed, 3 body, 4 meta, 5 seq, 6.. idempotency keys
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 wake channel, 3 count, 4 '1' to skip a message whose
--       id is in the queue already (follow-ups of a settlement on Redis Cluster), then per message:
--       id, priority, body, notBefore (ms, 0 = now), idempotency key index (0 = none), window (ms),
--       limit ('permits,periodMs,burst,concurrency,key', '' = none), unique key ('' = none)
-- Returns {one string per message: '' when enqueued, else the id that holds the key;
--          keys foreign values were moved to (see guard.lua)}.
guardKeys(#KEYS)
local now = clockNow(ARGV[1])
local n = tonumber(ARGV[3])
local skipPresent = ARGV[4] == '1'
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

-- First decide which messages go in (idempotency keys), then write them all in a few calls. This
-- runs for every message: counters instead of # (a length is a search in Lua 5.1), no table per
-- message, and no number read or written that need not be.
local A = ARGV
local format = string.format
local B = queueBase(KEYS[1])
local bodies, metas, ready, delayed = {}, {}, {}, {}
local nb, nm, nd = 0, 0, 0
local readyIds, readyPrios, readySpecs, nr = {}, {}, {}, 0
local uniqueHere = {} -- unique key -> id taking it in this call
for i = 0, n - 1 do
  local b = 5 + i * 8
  local id, prio = A[b], A[b + 1]
  local keyIndex = tonumber(A[b + 4])
  local limit, unique = A[b + 6], A[b + 7]
  local holder = nil
  if skipPresent and call('HEXISTS', KEYS[3], id) == 1 then
    holder = id -- there already: as settle.lua, a follow-up is not enqueued twice
  elseif keyIndex > 0 then
    holder = keyHolder(KEYS[keyIndex])
  end
  if not holder and unique ~= '' then
    -- held while the holder is stored (by this call, or before it: a holder gone without releasing
    -- it, which only a hand-edited key can cause, frees it)
    holder = uniqueHere[unique]
    if not holder then
      holder = fcall('HGET', B .. 'uniq', unique)
      if holder and redis.call('HEXISTS', KEYS[3], holder) == 0 then
        holder = nil
      end
    end
  end
  if not holder then
    if keyIndex > 0 then
      local window = tonumber(A[b + 5])
      redis.call('SET', KEYS[keyIndex], format('%d', now + window) .. '|' .. id,
        'PX', math.max(window, 1))
    end
    if unique ~= '' then
      uniqueHere[unique] = id
      fcall('HSET', B .. 'uniq', unique, id)
      fcall('HSET', B .. 'ukey', id, unique)
    end
    if limit ~= '' then
      fcall('HSET', B .. 'lkey', id, limit)
    end
  end
  if holder then
    out[i + 1] = holder
  else
    out[i + 1] = ''
    bodies[nb + 1], bodies[nb + 2] = id, A[b + 2]
    nb = nb + 2
    local notBefore = A[b + 3]
    if notBefore ~= '0' and tonumber(notBefore) > now then
      local due = format('%d', tonumber(notBefore))
      delayed[nd + 1], delayed[nd + 2] = due, id
      nd = nd + 2
      metas[nm + 1], metas[nm + 2] = id, prio .. ',0,0,,' .. due
      nm = nm + 2
    else
      nr = nr + 1
      readyIds[nr], readyPrios[nr], readySpecs[nr] = id, prio, limit
    end
  end
end

local held = {} -- {id, score, limit} of the limited messages due now: held by their key
if nr > 0 then
  -- Sequence numbers in message order keep FIFO within a priority.
  local seq = nextSeq(KEYS[5], nr) - nr
  local nready = 0
  for i = 1, nr do
    local id, prio = readyIds[i], readyPrios[i]
    local score = format('%d', (9 - prio) * PRIORITY_SPAN + seq + i)
    if readySpecs[i] == '' then
      ready[nready + 1], ready[nready + 2] = score, id
      nready = nready + 2
    else
      held[#held + 1] = {id, score, readySpecs[i]}
    end
    metas[nm + 1], metas[nm + 2] = id, prio .. ',' .. score .. ',0,,' .. nowText
    nm = nm + 2
  end
end
if #bodies > 0 then
  batched('HSET', KEYS[3], bodies)
  batched('HSET', KEYS[4], metas)
end
if #delayed > 0 then
  batched('ZADD', KEYS[2], delayed)
end
for _, h in ipairs(held) do
  limHold(B, h[1], h[2], limSpec(h[3]), now)
end
if #ready > 0 or #held > 0 then
  if #ready > 0 then
    batched('ZADD', KEYS[1], ready)
  end
  redis.call('PUBLISH', ARGV[2], '')
end
return {out, FOREIGN}
