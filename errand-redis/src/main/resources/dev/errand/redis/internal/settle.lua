-- Applies a batch of settlements (Backend.settle): each one only while its delivery's receipt is
-- current, and then all of it: dead letter, statuses (and their index), the delivery's ending (as
-- ack.lua, release.lua, retry.lua), follow-up messages (as enqueue.lua, skipping an id already in
-- its queue) and the chord part (with the callback when it completes the chord).
--
-- Redis keeps the writes a script made before an error, so the script first plans the whole batch:
-- every read and check, with what earlier settlements of the batch change kept in tables (a later
-- one sees them), and no write but guard.lua's moving aside of foreign values. Only then does it
-- write, batched per key for the whole batch: first what only indexes the parts (the task index,
-- the dead letter indexes and counter, the queue-name registry), whose keys the plan did not read,
-- so that a foreign value there fails the call before any part is written; then the parts, with
-- commands that cannot fail (queue keys are guarded by guard.lua, the others were read in the plan
-- with the type they are written with, or are set whole); then the PUBLISHes. So an error leaves
-- the batch unapplied.
--
-- The keys of a queue, a result, a chord and the dead letter index of a queue are built here from
-- the prefix as Keys.java builds them. They are in many hash slots: fine on standalone and Sentinel
-- Redis. On Redis Cluster a script may touch one slot only, so SlotSettler calls this script once
-- per queue with the deliveries' parts only (receipt check and ending) and each settlement's other
-- parts as an outbox entry, written with the ending into the queue's own outbox hash and applied
-- slot by slot afterwards (all KEYS are then the outbox key, which nothing else here touches).
--
-- KEYS: 1 task index meta, 2 task index expiry, 3 dead letters, 4 dead index, 5 dead queue-name set,
--       6 dead counter, 7 queue-name registry
-- ARGV: 1 prefix, 2 now (ms, or '' for Redis's clock), 3 the backend clock's now (ms: expiry of
--       stored values), 4 ttl (ms, > 0), 5 expired index ids to trim beyond those indexed,
--       6 the step after whose planning to fail ('' but in tests), 7 settlement count,
--       then per settlement:
--       queue ('' without a delivery), id, receipt, ending ('A' ack, 'L' release, 'R' retry,
--       'K' keep: only the receipt is checked, ''),
--       retry body, retry notBefore (ms),
--       dead letter id ('' for none), its queue, failedAt (ms), JSON,
--       status count, then per status: id, value (expiresAt\n + JSON), updatedAt (ms), index meta,
--       '1' if ready,
--       follow-up count, then per message: queue, id, priority, body, notBefore (ms, 0 = now),
--       idempotency key ('' for none), window (ms), limit ('permits,periodMs,burst,concurrency,key'
--       or ''), unique key ('' for none),
--       chord id ('' for none), member index, '1' if the member failed,
--       outbox entry ('' for none; Redis Cluster, with a delivery)
-- Returns {ids whose receipt was stale, {queue, key, ...} for each value moved aside (guard.lua),
--          the outbox fields written (receipt#n: the settlements that were current)}.
-- Locals, not globals, for what every settlement reads: a global is a table lookup each time.
local ARGV, KEYS, redis = ARGV, KEYS, redis
local P = ARGV[1]
local now = clockNow(ARGV[2])
local nowText = string.format('%d', now)
local storeNow = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local fault = ARGV[6]
local faulty = fault ~= ''
local match, format = string.match, string.format

local function failAfter(step)
  if fault == step then
    error('injected failure after ' .. step)
  end
end

-- Appends a and b (b optional) to list.
local function put2(list, a, b)
  list[#list + 1] = a
  if b then
    list[#list + 1] = b
  end
end

-- The queues the batch touches: their keys (guarded, the value naming the queue for the reply),
-- what the batch changed so far, and the writes planned.
local queues, queueOrder = {}, {}
local function queue(name)
  local q = queues[name]
  if q then
    return q
  end
  local base = P .. ':q:{' .. name .. '}:'
  q = {
    name = name, base = base, ready = base .. 'ready', delayed = base .. 'delayed', leased = base .. 'leased',
    body = base .. 'body', meta = base .. 'meta', seq = base .. 'seq', idem = base .. 'idem:',
    wake = P .. ':wake:' .. name,
    receiptIds = {}, -- ids whose receipt to check, in one HMGET
    present = {}, -- id -> whether it is in the queue now (after earlier settlements of the batch)
    ended = {}, -- id -> true once a settlement of the batch ended its delivery
    holders = {}, -- idempotency key -> id holding it (false: none)
    leasedOut = {}, acked = {}, bodies = {}, metas = {}, delays = {}, readyAdds = {},
    sequenced = {}, -- {id, priority} of messages that join the back of their band, in order
    keySets = {}, -- key, value, px per idempotency key taken
    -- flow control (limits.lua), applied after the queue's other writes:
    uniques = {}, -- unique key -> id holding it (false: none), as planned
    uniqSets = {}, -- unique key, id per unique key taken
    lkeySets = {}, -- id, limit of each limited message enqueued
    newHeld = {}, -- {id, limit} of limited messages enqueued due now: held, not ready
    endedFlow = {}, -- ids released ('L') or retried ('R' due now, 'D' later), in order
    endedKind = {}, -- id -> 'L', 'R' or 'D'
    outbox = {}, -- field, value per outbox entry (Redis Cluster)
    wakeUp = false, enqueued = false
  }
  for _, k in ipairs({q.ready, q.delayed, q.leased, q.body, q.meta, q.seq, base .. 'outbox'}) do
    GUARDED[k] = name
  end
  queues[name] = q
  queueOrder[#queueOrder + 1] = q
  return q
end

-- 'expiresAt|id' of the message holding an idempotency key, as enqueue.lua reads it: a value
-- Errand did not write there is moved aside (and so frees the key).
local function keyHolder(key)
  local held = call('GET', key)
  if not held then
    return false
  end
  local expires, id = match(held, '^(%d+)|(.+)$')
  if not expires then
    moveAside(key)
    return false
  end
  if tonumber(expires) > now then
    return id
  end
  return false
end

-- Plans the enqueue of a message unless its id is in its queue already, or its idempotency key is
-- held (as enqueue.lua decides).
local function enqueueNew(name, id, prio, body, notBefore, key, window, limit, unique)
  local q = queue(name)
  local present = q.present[id]
  if present == nil then
    present = call('HEXISTS', q.body, id) == 1
  end
  if present then
    return
  end
  if unique ~= '' then
    -- as enqueue.lua: held while its holder is stored
    local holder = q.uniques[unique]
    if holder == nil then
      holder = fcall('HGET', q.base .. 'uniq', unique) or false
      if holder and q.present[holder] == false then
        holder = false
      elseif holder and q.present[holder] == nil and call('HEXISTS', q.body, holder) == 0 then
        holder = false
      end
    end
    if holder then
      return
    end
  end
  if key ~= '' then
    local k = q.idem .. key
    GUARDED[k] = name
    local holder = q.holders[k]
    if holder == nil then
      holder = keyHolder(k)
    end
    if holder then
      return
    end
    local w = tonumber(window)
    q.holders[k] = id
    put2(q.keySets, k, format('%d', now + w) .. '|' .. id)
    put2(q.keySets, math.max(w, 1))
  end
  if unique ~= '' then
    q.uniques[unique] = id
    put2(q.uniqSets, unique, id)
  end
  if limit ~= '' then
    put2(q.lkeySets, id, limit)
  end
  q.present[id] = true
  q.enqueued = true
  put2(q.bodies, id, body)
  if notBefore > now then
    local due = format('%d', notBefore)
    put2(q.delays, due, id)
    put2(q.metas, id, prio .. ',0,0,,' .. due)
  else
    put2(q.sequenced, {id, tonumber(prio)})
    if limit ~= '' then
      put2(q.newHeld, {id, limit})
    end
  end
end

-- After the queue's other writes: the flow control of what the batch did to it (limits.lua).
-- Acked messages leave their keys first: a follow-up may bring back an id the batch acked.
local function flowAfterWrites(q)
  local B = q.base
  if #q.acked > 0 then
    flowRemoved(B, q.acked, now, true)
  end
  local specs = limSpecs(B, q.endedFlow)
  if specs then
    for k, id in ipairs(q.endedFlow) do
      local spec = specs[k]
      if spec then
        local kind = q.endedKind[id]
        limFree(B, spec, now, kind ~= 'D', kind == 'L')
        if kind ~= 'D' then
          local score = redis.call('ZSCORE', q.ready, id)
          redis.call('ZREM', q.ready, id)
          fcall('ZADD', B .. 'held:' .. spec.key, score, id)
        end
      end
    end
  end
  if #q.lkeySets > 0 then
    batched('HSET', guardFlow(B .. 'lkey'), q.lkeySets)
  end
  for k = 1, #q.uniqSets, 2 do
    fcall('HSET', B .. 'uniq', q.uniqSets[k], q.uniqSets[k + 1])
    fcall('HSET', B .. 'ukey', q.uniqSets[k + 1], q.uniqSets[k])
  end
  for _, h in ipairs(q.newHeld) do
    local score = redis.call('ZSCORE', q.ready, h[1])
    redis.call('ZREM', q.ready, h[1])
    limHold(B, h[1], score, limSpec(h[2]), now)
  end
end

-- The chords the batch touches, read once: expired by the backend's clock counts as absent.
local chords, chordOrder = {}, {}
local function chord(id)
  local c = chords[id]
  if c then
    return c
  end
  local key = P .. ':chord:{' .. id .. '}'
  c = {key = key, parts = key .. ':parts', changed = {}, seen = {}}
  local f = redis.call('HMGET', key, 'expiresAt', 'size', 'policy', 'failed', 'firing')
  if f[1] and tonumber(f[1]) > storeNow then
    c.size = f[2] and tonumber(f[2]) -- nil: a placeholder holding parts that came before the chord
    c.policy, c.failed, c.firing = f[3], tonumber(f[4] or '0'), f[5]
    c.finished = redis.call('HLEN', c.parts)
    if c.finished == 0 then
      c.pttl = redis.call('PTTL', key) -- the first part creates the parts key: it expires with the chord
    end
  else
    c.fresh = true -- a new placeholder replaces what is there
    c.failed, c.finished = 0, 0
  end
  chords[id] = c
  chordOrder[#chordOrder + 1] = c
  return c
end

-- Plans recording member `index` of chord `id` (the rule of WorkflowStore's Javadoc); enqueues the
-- callback when the part completes the chord and the policy allows a firing.
local function recordPart(id, index, failed)
  local c = chord(id)
  if c.size and tonumber(index) >= c.size then
    return -- not a member of this chord: counting it could fire the chord early
  end
  local old = c.seen[index]
  if old == nil then
    old = c.prior and c.prior[index] or false
  end
  local new = failed and '1' or '0'
  if c.seen[index] == nil then
    c.changed[#c.changed + 1] = index
  end
  c.seen[index] = new
  c.recorded = true
  if not old then
    c.finished = c.finished + 1
  end
  c.failed = c.failed + (failed and 1 or 0) - (old == '1' and 1 or 0)
  if not c.size or c.finished < c.size then
    return
  end
  if c.firing == 'NOT_YET' or (c.policy == 'FAIL' and c.firing == 'WITH_FAILURES' and c.failed == 0) then
    c.firing = c.failed == 0 and 'ALL_SUCCEEDED' or 'WITH_FAILURES'
    c.fired = true
    local cb = redis.call('HMGET', c.key,
      'cb.queue', 'cb.id', 'cb.priority', 'cb.body', 'cb.notBefore', 'cb.key', 'cb.window')
    enqueueNew(cb[1], cb[2], cb[3], cb[4], tonumber(cb[5]), cb[6], cb[7], '', '')
  end
end

-- Read the settlements' positions, and each queue's metas of the batch's receipts in one HMGET.
local settlements = {}
local i = 8
for s = 1, tonumber(ARGV[7]) do
  local st = {at = i}
  if ARGV[i] ~= '' then
    local q = queue(ARGV[i])
    put2(q.receiptIds, ARGV[i + 1])
    st.q, st.k = q, #q.receiptIds
  end
  i = i + 10
  st.statuses = i + 1
  i = i + 1 + 5 * tonumber(ARGV[i])
  st.followUps = i + 1
  i = i + 1 + 9 * tonumber(ARGV[i])
  st.chord = i
  st.outbox = i + 3
  i = i + 4
  settlements[s] = st
end
for _, q in ipairs(queueOrder) do
  if #q.receiptIds > 0 then
    q.receiptMetas = batched('HMGET', q.meta, q.receiptIds, true)
  end
end
-- The parts of each chord the batch records, as they were before it, in one HMGET per chord.
local partIndexes, partChords = {}, {}
for _, st in ipairs(settlements) do
  local id = ARGV[st.chord]
  if id ~= '' then
    local list = partIndexes[id]
    if not list then
      list = {}
      partIndexes[id] = list
      partChords[#partChords + 1] = id
    end
    list[#list + 1] = ARGV[st.chord + 1]
  end
end
for _, id in ipairs(partChords) do
  local c = chord(id)
  if not c.fresh then
    local list = partIndexes[id]
    local values = batched('HMGET', c.parts, list, true)
    c.prior = {}
    for k, index in ipairs(list) do
      c.prior[index] = values[k]
    end
  end
end

-- The plan.
local stale = {}
local results, publishes = {}, {} -- ARGV positions of the statuses to SET, and of the ready ones
local index, indexAt = {}, {} -- id, updatedAt, meta per status for the index; id -> its position
local deadLetters, deadQueue = {}, {} -- planned letters; id -> its queue (false: none), as of now
local outboxFields = {} -- the outbox fields written
for sn, st in ipairs(settlements) do
  local a, q, m = st.at, st.q, nil
  local id, ending = ARGV[a + 1], ARGV[a + 3]
  local current = true
  if q then
    local raw = q.receiptMetas[st.k]
    if q.ended[id] then
      current = false
    elseif ending == 'A' or ending == 'K' then
      -- as checkReceipts (batch.lua): the meta carries the receipt of the current lease only
      local r = raw and match(raw, '^%d+,%d+,%d+,([^,]*),')
      current = r ~= nil and r ~= '' and r == ARGV[a + 2]
    else
      m = parseMeta(raw)
      current = m and m[4] ~= '' and m[4] == ARGV[a + 2] or false
    end
  end
  if not current then
    stale[#stale + 1] = id
  else
    if faulty then
      failAfter('RECEIPT_CHECKED')
    end

    local dl = ARGV[a + 6]
    if dl ~= '' then
      local old = deadQueue[dl]
      if old == nil then
        old = redis.call('HGET', KEYS[3], dl .. '\0q') or false
      end
      deadQueue[dl] = ARGV[a + 7]
      deadLetters[#deadLetters + 1] = {a + 6, old}
    end
    if faulty then
      failAfter('DEAD_LETTER')
    end

    for b = st.statuses, st.followUps - 2, 5 do
      results[#results + 1] = b
      local sid = ARGV[b]
      local at = indexAt[sid]
      if at then
        index[at + 1], index[at + 2] = ARGV[b + 2], ARGV[b + 3] -- the last status of an id wins
      else
        indexAt[sid] = #index + 1
        put2(index, sid, ARGV[b + 2])
        put2(index, ARGV[b + 3])
      end
      if ARGV[b + 4] == '1' then
        publishes[#publishes + 1] = b
      end
    end
    if faulty then
      failAfter('STATUSES')
    end

    if q and ending ~= 'K' then -- a kept delivery stays leased, and may be ended later in the batch
      q.ended[id] = true
      put2(q.leasedOut, id)
      if ending == 'A' then
        q.present[id] = false
        put2(q.acked, id)
      elseif ending == 'L' then
        -- back to its place, taking back its delivery count
        put2(q.metas, id, m[1] .. ',' .. m[2] .. ',' .. math.max(m[3] - 1, 0) .. ',,' .. m[5])
        put2(q.readyAdds, m[2], id)
        put2(q.endedFlow, id)
        q.endedKind[id] = 'L'
        q.wakeUp = true
      else
        put2(q.bodies, id, ARGV[a + 4])
        local notBefore = tonumber(ARGV[a + 5])
        put2(q.endedFlow, id)
        if notBefore > now then
          local due = format('%d', notBefore)
          put2(q.delays, due, id)
          put2(q.metas, id, m[1] .. ',0,0,,' .. due)
          q.endedKind[id] = 'D'
        else
          put2(q.sequenced, {id, tonumber(m[1])})
          q.endedKind[id] = 'R'
        end
      end
    end
    if faulty then
      failAfter('ENDING')
    end

    for b = st.followUps, st.chord - 1, 9 do
      enqueueNew(ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], tonumber(ARGV[b + 4]),
        ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8])
    end
    if faulty then
      failAfter('FOLLOW_UPS')
    end

    if ARGV[st.chord] ~= '' then
      recordPart(ARGV[st.chord], ARGV[st.chord + 1], ARGV[st.chord + 2] == '1')
    end
    if q and ARGV[st.outbox] ~= '' then
      -- by receipt and place in the call: a batch may keep and then end one delivery
      local field = ARGV[a + 2] .. '#' .. sn
      put2(q.outbox, field, nowText .. '|' .. ARGV[st.outbox])
      outboxFields[#outboxFields + 1] = field
    end
    if faulty then
      failAfter('CHORD_PART')
    end
  end
end

-- The writes: first the indexes of the parts (and the outbox entries, which index nothing but are
-- not read by the plan either).
for _, q in ipairs(queueOrder) do
  if #q.outbox > 0 then
    batched('HSET', q.base .. 'outbox', q.outbox)
  end
end
if #index > 0 then
  local prefix = P .. ':{tasks}:'
  indexStatuses(prefix, KEYS, index, 1)
  trim(prefix, KEYS, ARGV[3], #index / 3 + tonumber(ARGV[5]))
end
local deadPrefix = P .. ':{dead}:q:'
for _, d in ipairs(deadLetters) do
  local b, old = d[1], d[2]
  local id, dq = ARGV[b], ARGV[b + 1]
  if old and old ~= dq then
    redis.call('ZREM', deadPrefix .. old, id)
  end
  local score = format('%d', tonumber(ARGV[b + 2]) * 1024 + redis.call('INCR', KEYS[6]) % 1024)
  redis.call('ZADD', KEYS[4], score, id)
  redis.call('ZADD', deadPrefix .. dq, score, id)
  redis.call('SADD', KEYS[5], dq)
end
local registry = {}
for _, q in ipairs(queueOrder) do
  if q.enqueued then
    put2(registry, ARGV[3], (string.match(q.name, '^[^ ]*'))) -- a shard registers its queue
  end
end
if #registry > 0 then
  redis.call('ZADD', KEYS[7], unpack(registry))
end

-- Then the parts.
for _, d in ipairs(deadLetters) do
  local b = d[1]
  redis.call('HSET', KEYS[3], ARGV[b], ARGV[b + 3], ARGV[b] .. '\0q', ARGV[b + 1])
end
for _, b in ipairs(results) do
  redis.call('SET', P .. ':r:{' .. ARGV[b] .. '}', ARGV[b + 1], 'PX', ARGV[4])
end

for _, q in ipairs(queueOrder) do
  -- Endings first: a follow-up may bring back an id the batch acked.
  if #q.leasedOut > 0 then
    batched('ZREM', q.leased, q.leasedOut)
  end
  if #q.acked > 0 then
    batched('HDEL', q.body, q.acked)
    batched('HDEL', q.meta, q.acked)
  end
  if #q.sequenced > 0 then
    -- Sequence numbers in settlement order keep FIFO within a priority.
    local seq = nextSeq(q.seq, #q.sequenced) - #q.sequenced
    for k, e in ipairs(q.sequenced) do
      local score = format('%d', (9 - e[2]) * PRIORITY_SPAN + seq + k)
      put2(q.readyAdds, score, e[1])
      put2(q.metas, e[1], e[2] .. ',' .. score .. ',0,,' .. nowText)
    end
    q.wakeUp = true
  end
  if #q.bodies > 0 then
    batched('HSET', q.body, q.bodies)
  end
  if #q.metas > 0 then
    batched('HSET', q.meta, q.metas)
  end
  if #q.delays > 0 then
    batched('ZADD', q.delayed, q.delays)
  end
  if #q.readyAdds > 0 then
    batched('ZADD', q.ready, q.readyAdds)
  end
  for k = 1, #q.keySets, 3 do
    call('SET', q.keySets[k], q.keySets[k + 1], 'PX', q.keySets[k + 2])
  end
  flowAfterWrites(q)
end

for _, c in ipairs(chordOrder) do
  if c.recorded then
    local parts = {}
    for _, ix in ipairs(c.changed) do
      put2(parts, ix, c.seen[ix])
    end
    if c.fresh then
      redis.call('DEL', c.key, c.parts)
      redis.call('HSET', c.key, 'expiresAt', format('%d', storeNow + ttl), 'failed', c.failed)
      redis.call('PEXPIRE', c.key, ARGV[4])
      batched('HSET', c.parts, parts)
      redis.call('PEXPIRE', c.parts, ARGV[4])
    else
      if c.fired then
        redis.call('HSET', c.key, 'failed', c.failed, 'firing', c.firing)
      else
        redis.call('HSET', c.key, 'failed', c.failed)
      end
      batched('HSET', c.parts, parts)
      if c.pttl and c.pttl > 0 then
        redis.call('PEXPIRE', c.parts, c.pttl)
      end
    end
  end
end

-- Wake-ups last, once everything they announce is there.
for _, q in ipairs(queueOrder) do
  if q.wakeUp then
    redis.call('PUBLISH', q.wake, '')
  end
end
for _, b in ipairs(publishes) do
  redis.call('PUBLISH', P .. ':done:' .. ARGV[b], ARGV[b + 1])
end

-- Each value moved aside, with the queue of the key it was under.
local foreign = {}
for _, aside in ipairs(FOREIGN) do
  local original = match(aside, '^(.*):foreign:%d+%-?%d*$')
  put2(foreign, GUARDED[original] or '', aside)
end
return {stale, foreign, outboxFields}
