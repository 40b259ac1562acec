-- Shared by the scripts that move messages of a queue (prepended to them, after guard.lua): flow
-- control. Under a queue's base B ('PREFIX:q:{NAME}:'), all in the queue's hash slot:
--   B..'lkey'      hash id -> 'permits,periodMs,burst,concurrency,key' of each limited message
--   B..'ukey'      hash id -> unique key;  B..'uniq' hash unique key -> id holding it
--   B..'lim:'..K   hash: the state of limit key K (p, per, b, c: the limit as last stated; tat: the
--                  rate's theoretical arrival time in ms (GCRA); run: messages leased; held: held)
--   B..'held:'..K  sorted set of K's held messages, scored as in ready (priority band, sequence)
--   B..'ldue'      sorted set of keys that may release a message, by when (ms)
--   B..'lkeys'     sorted set of keys in use: score LIM_BUSY while any is held or leased, else when
--                  the key's state expires (it is forgotten once its rate has recovered)
--   B..'limited'   how many messages are held
-- A held message is in no other set of the queue; a claim takes from the due keys first. Every
-- function costs nothing for a queue without limited messages beyond one EXISTS per script.
local LIM_BUSY = 9000000000000000

-- Every command on a flow-control key goes through guard.lua's call() with the key guarded: a value
-- of the wrong type found there (not written by Errand) is moved aside, dead-lettered by the
-- broker, and the script goes on. The guard names the key's queue, as settle.lua's reply needs.
local function guardFlow(key)
  if not GUARDED[key] then
    GUARDED[key] = string.match(key, ':q:{(.-)}:') or true
  end
  return key
end

local function fcall(command, key, ...)
  return call(command, guardFlow(key), ...)
end

-- Adds n (maybe negative) to the count of held messages; a count that is not a number is moved
-- aside and counting starts again (nextSeq, guard.lua).
local function limCount(B, n)
  nextSeq(guardFlow(B .. 'limited'), n)
end

local function queueBase(readyKey)
  return string.sub(readyKey, 1, #readyKey - 5) -- 'ready'
end

-- 'p,per,b,c,key' -> spec table (the key may hold commas: it is last)
local function limSpec(v)
  local p, per, b, c, key = string.match(v, '^(%d+),(%d+),(%d+),(%d+),(.+)$')
  if not p then
    return nil
  end
  return {p = tonumber(p), per = tonumber(per), b = tonumber(b), c = tonumber(c), key = key}
end

-- The state of key `key`, created from `spec` when absent; `spec` (optional) updates the limit.
local function limLoad(B, key, spec)
  local k = B .. 'lim:' .. key
  local v = fcall('HMGET', k, 'p', 'per', 'b', 'c', 'tat', 'run', 'held')
  local s
  if v[1] then
    s = {key = key, p = tonumber(v[1]), per = tonumber(v[2]), b = tonumber(v[3]),
         c = tonumber(v[4]), tat = tonumber(v[5]), run = tonumber(v[6]), held = tonumber(v[7])}
    if not (s.p and s.per and s.b and s.c and s.tat and s.run and s.held) then
      moveAside(k) -- fields Errand did not write: set aside, and the key starts afresh
      s = nil
    end
  end
  if s then
    -- as read
  elseif spec then
    s = {key = key, p = spec.p, per = spec.per, b = spec.b, c = spec.c, tat = 0, run = 0, held = 0}
  else
    return nil
  end
  if spec then
    s.p, s.per, s.b, s.c = spec.p, spec.per, spec.b, spec.c
  end
  return s
end

local function limInterval(s)
  return s.per / s.p
end

-- When the rate next allows a start (ms); -1 without a rate.
local function limAllowedAt(s)
  if s.p == 0 then
    return -1
  end
  return s.tat - limInterval(s) * (s.b - 1)
end

local function limRoom(s)
  if s.c == 0 then
    return 1000000000
  end
  return s.c - s.run
end

-- Writes the state back and files the key: due (when it holds messages and has room), busy, idle
-- (expiring once its rate has recovered) or forgotten.
local function limSave(B, s, now)
  local k = B .. 'lim:' .. s.key
  if s.held <= 0 and s.run <= 0 then
    fcall('ZREM', B .. 'ldue', s.key)
    if s.tat <= now then
      fcall('DEL', k)
      fcall('ZREM', B .. 'lkeys', s.key)
      return
    end
  end
  fcall('HSET', k, 'p', s.p, 'per', s.per, 'b', s.b, 'c', s.c,
    'tat', string.format('%.3f', s.tat), 'run', math.max(s.run, 0), 'held', math.max(s.held, 0))
  if s.held <= 0 and s.run <= 0 then
    local ttl = math.max(1, math.ceil(s.tat - now))
    fcall('PEXPIRE', k, ttl)
    -- the entries of keys whose state has expired go as this one goes idle: a million keys used
    -- once each leave nothing behind
    fcall('ZREMRANGEBYSCORE', B .. 'lkeys', '-inf', now)
    fcall('ZADD', B .. 'lkeys', string.format('%d', now + ttl), s.key)
    return
  end
  fcall('PERSIST', k)
  fcall('ZADD', B .. 'lkeys', LIM_BUSY, s.key)
  if s.held > 0 and limRoom(s) > 0 then
    fcall('ZADD', B .. 'ldue', string.format('%d', math.max(0, math.ceil(limAllowedAt(s)))), s.key)
  else
    fcall('ZREM', B .. 'ldue', s.key)
  end
end

-- Holds message `id` (scored `score`, as in ready) under its limit `spec` until its key is due.
local function limHold(B, id, score, spec, now)
  local s = limLoad(B, spec.key, spec)
  fcall('ZADD', B .. 'held:' .. spec.key, score, id)
  limCount(B, 1)
  s.held = s.held + 1
  limSave(B, s, now)
end

-- A leased message of key `key` holds no place in its concurrency any more: acked, or held again
-- (then `heldAgain`, and the caller adds it to the held set); `refund` gives its start back.
local function limFree(B, spec, now, heldAgain, refund)
  local s = limLoad(B, spec.key, spec)
  s.run = s.run - 1
  if heldAgain then
    s.held = s.held + 1
    limCount(B, 1)
  end
  if refund and s.p > 0 then
    s.tat = math.max(now, s.tat - limInterval(s))
  end
  limSave(B, s, now)
end

-- The rate's arrival time after a start at `now`. A start late by at most 50 ms keeps the
-- schedule: a claim always comes a moment after its key is due, and restarting the schedule from
-- each late start would lose that moment every time (100/s would give 85/s); the starts it fell
-- behind may then follow at once. A start after a longer pause restarts the schedule.
local LATENESS_CREDIT_MS = 50
local function limNextTat(s, t, now)
  local base = now
  if t >= now - LATENESS_CREDIT_MS then
    base = t
  end
  return base + limInterval(s)
end

-- How many starts the rate allows at `now`, at most `max`.
local function limStarts(s, now, max)
  if s.p == 0 then
    return max
  end
  local t, n = s.tat, 0
  local tolerance = limInterval(s) * (s.b - 1)
  while n < max and math.max(t, now) - tolerance <= now do
    t = limNextTat(s, t, now)
    n = n + 1
  end
  return n
end

-- Takes up to `max` held messages whose keys allow a start now, soonest key first, each in its
-- key's order; returns {id, score, id, score, ...} for the caller to lease like ready ones.
local function limTake(B, now, max)
  local out, n = {}, 0
  local due = fcall('ZRANGEBYSCORE', B .. 'ldue', '-inf', now, 'LIMIT', 0, max)
  for _, key in ipairs(due) do
    if n >= max then
      break
    end
    local s = limLoad(B, key, nil)
    if not s then
      fcall('ZREM', B .. 'ldue', key)
    else
      local want = math.min(limRoom(s), limStarts(s, now, max - n))
      local got = 0
      if want > 0 then
        local popped = fcall('ZPOPMIN', B .. 'held:' .. key, want)
        for i = 1, #popped, 2 do
          out[#out + 1] = popped[i]
          out[#out + 1] = popped[i + 1]
          got = got + 1
        end
      end
      for _ = 1, got do
        if s.p > 0 then
          s.tat = limNextTat(s, s.tat, now)
        end
      end
      s.run = s.run + got
      s.held = s.held - got
      if got > 0 then
        limCount(B, -got)
      end
      if got < want then
        s.held = fcall('ZCARD', B .. 'held:' .. key) -- repair a count that drifted
      end
      limSave(B, s, now)
      n = n + got
    end
  end
  return out
end

-- The limit specs of `ids` (nil for an unlimited one), or nil when the queue has none at all.
local function limSpecs(B, ids)
  if #ids == 0 or redis.call('EXISTS', B .. 'lkey') == 0 then
    return nil
  end
  local raw = batched('HMGET', guardFlow(B .. 'lkey'), ids, true)
  local specs = {}
  for i = 1, #ids do
    specs[i] = raw[i] and limSpec(raw[i]) or false
  end
  return specs
end

-- `ids` leave the queue for good (acked or purged): their leased ones (`leased` true) free their
-- key's place; limit and unique keys are forgotten.
local function flowRemoved(B, ids, now, leased)
  local specs = limSpecs(B, ids)
  if specs then
    for i = 1, #ids do
      if specs[i] and leased then
        limFree(B, specs[i], now, false, false)
      end
    end
    batched('HDEL', guardFlow(B .. 'lkey'), ids)
  end
  if #ids > 0 and redis.call('EXISTS', B .. 'ukey') == 1 then
    local keys = batched('HMGET', guardFlow(B .. 'ukey'), ids, true)
    for i = 1, #ids do
      local u = keys[i]
      if u and fcall('HGET', B .. 'uniq', u) == ids[i] then
        fcall('HDEL', B .. 'uniq', u)
      end
    end
    batched('HDEL', guardFlow(B .. 'ukey'), ids)
  end
end
