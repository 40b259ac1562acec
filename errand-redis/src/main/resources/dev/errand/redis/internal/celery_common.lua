-- Shared by the Celery scripts (prepended to them). Errand keeps its own record of every Celery
-- message a Java worker holds, beside kombu's 'unacked' hash and 'unacked_index' zset (which it
-- also writes, so Celery workers see and can restore what Java holds):
--   held      hash  tag -> 'STATE COUNT RECEIPT SUFFIX LISTKEY' (STATE L leased, P parked until its
--                   eta; SUFFIX the length of what follows the envelope in its 'unacked' entry,
--                   0 when it has none)
--   raw       hash  tag -> the envelope exactly as popped, for a message kombu's 'unacked' cannot
--                   hold (not kombu's shape); the others are cut back out of their 'unacked' entry
--   deadlines zset  tag -> lease deadline, or eta for a parked message (ms)
--   dc:<tag>  string    -> delivery count of a message that went back to its list (kept 7 days)
-- KEYS[1..5] of every Celery script: unacked, unacked_index, held, raw, deadlines.

local DC_TTL = 604800

local function parseHeld(rec)
  if not rec then
    return nil
  end
  local state, count, receipt, suffix, key = string.match(rec, '^(%S+) (%S+) (%S+) (%S+) (.*)$')
  return state, tonumber(count), receipt, key, tonumber(suffix)
end

-- Forgets a held message everywhere (Errand's record and kombu's).
local function forget(tag)
  redis.call('HDEL', KEYS[3], tag)
  redis.call('HDEL', KEYS[4], tag)
  redis.call('ZREM', KEYS[5], tag)
  redis.call('HDEL', KEYS[1], tag)
  redis.call('ZREM', KEYS[2], tag)
end

-- The envelope of a held message, exactly as it was popped; nil if a Celery worker already put it
-- back (its visibility timeout) or took it.
local function heldEnvelope(tag, suffix)
  if suffix and suffix > 0 then
    local entry = redis.call('HGET', KEYS[1], tag)
    return entry and string.sub(entry, 2, #entry - suffix) or nil
  end
  return redis.call('HGET', KEYS[4], tag)
end

-- Puts a held message back at the consuming end of its list (as kombu's restore does) and keeps
-- its delivery count for the next claim.
local function restore(tag, key, count, dcPrefix, suffix)
  local raw = heldEnvelope(tag, suffix)
  if raw then
    redis.call('RPUSH', key, raw)
    if count and count > 0 then
      redis.call('SET', dcPrefix .. tag, count, 'EX', DC_TTL)
    end
  end
  forget(tag)
end

local function seconds(ms)
  return string.format('%.3f', ms / 1000)
end
