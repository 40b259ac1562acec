-- Shared by the scripts that touch a queue's keys (prepended to them, before batch.lua). A value
-- of the wrong type under one of those keys (not written by Errand: a raw LPUSH, say) must neither
-- fail the script in a loop nor stop it halfway (Redis keeps the writes made before an error), so
-- every command on a guarded key goes through call(): on WRONGTYPE the value is moved aside to
-- 'KEY:foreign:<time>' (same hash tag, same Cluster slot) and the command runs again on the now
-- empty key. The script returns FOREIGN, and the broker turns what was moved aside into dead
-- letters. Costs nothing while the types are right: no TYPE call, one pcall instead of a call.
local GUARDED = {} -- key -> true: the keys of this call whose wrong values are moved aside
local FOREIGN = {} -- the keys values were moved to, in this call

-- Moves the value under key aside, never over an earlier one.
local function moveAside(key)
  local t = redis.call('TIME')
  local base = key .. ':foreign:' .. t[1] .. string.format('%06d', tonumber(t[2]))
  local aside, n = base, 0
  while redis.call('EXISTS', aside) == 1 do
    n = n + 1
    aside = base .. '-' .. n
  end
  redis.call('RENAME', key, aside)
  FOREIGN[#FOREIGN + 1] = aside
end

local function call(command, key, ...)
  if not GUARDED[key] then
    return redis.call(command, key, ...)
  end
  local reply = redis.pcall(command, key, ...)
  if type(reply) == 'table' and reply.err then
    if string.sub(reply.err, 1, 9) ~= 'WRONGTYPE' then
      error(reply)
    end
    moveAside(key)
    return redis.call(command, key, ...)
  end
  return reply
end

-- Guards KEYS[1..n] and the keys after them (idempotency keys, for enqueue).
local function guardKeys(n)
  for i = 1, n do
    GUARDED[KEYS[i]] = true
  end
end

-- The next n sequence numbers of the counter at key: the last one. A counter that is not an
-- integer (or not a string) is moved aside and counting starts again.
local function nextSeq(key, n)
  local reply = redis.pcall('INCRBY', key, n)
  if type(reply) == 'table' and reply.err then
    moveAside(key)
    reply = redis.call('INCRBY', key, n)
  end
  return reply
end
