-- Shared by the scripts that read a queue (prepended to them, after meta.lua and guard.lua):
-- reaping. Expects KEYS 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq.
local REAP_LIMIT = 1000

local function meta(id)
  return parseMeta(call('HGET', KEYS[5], id))
end

local function reap(now)
  -- Leases that ran out: back to their original place, receipt cleared (the old one is stale). A
  -- message without a valid meta goes first in line, its meta kept for the claim to judge.
  local expired = call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, REAP_LIMIT)
  for _, id in ipairs(expired) do
    call('ZREM', KEYS[3], id)
    local m = meta(id)
    if m then
      call('ZADD', KEYS[1], m[2], id)
      call('HSET', KEYS[5], id, m[1] .. ',' .. m[2] .. ',' .. m[3] .. ',,' .. m[5])
    else
      call('ZADD', KEYS[1], 0, id)
    end
  end

  -- Delayed messages that are due join the back of their priority band (a limited one, of its
  -- key's held messages).
  local due = call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, REAP_LIMIT)
  local B = queueBase(KEYS[1])
  local dueIds = {}
  for i = 1, #due, 2 do
    dueIds[#dueIds + 1] = due[i]
  end
  local specs = limSpecs(B, dueIds)
  for i = 1, #due, 2 do
    local id = due[i]
    call('ZREM', KEYS[2], id)
    local m = meta(id)
    local prio = m and tonumber(m[1]) or 0
    local score = string.format('%d', (9 - prio) * PRIORITY_SPAN + nextSeq(KEYS[6], 1))
    local spec = specs and specs[(i + 1) / 2]
    if spec and m then
      limHold(B, id, score, spec, now)
    else
      call('ZADD', KEYS[1], score, id)
    end
    if m ~= false then
      call('HSET', KEYS[5], id,
        prio .. ',' .. score .. ',' .. (m and m[3] or 0) .. ',,' .. string.format('%d', tonumber(due[i + 1])))
    end
  end
end
