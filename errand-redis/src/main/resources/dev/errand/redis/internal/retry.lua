-- Replaces the body of a leased message, ends the lease, resets the delivery count and makes it
-- deliverable again at notBefore.
-- KEYS: 1 ready, 2 delayed, 3 leased, 4 body, 5 meta, 6 seq
-- ARGV: 1 id, 2 receipt, 3 body, 4 notBefore (ms), 5 now (ms, or '' for Redis's clock),
--       6 wake channel
-- Returns {1, or 0 if the receipt was stale; keys foreign values were moved to (see guard.lua)}.
-- A limited message frees its place in its key's concurrency, and when due now is held by it.
guardKeys(6)
local id = ARGV[1]
local m = parseMeta(call('HGET', KEYS[5], id))
if not m or m[4] ~= ARGV[2] or call('ZREM', KEYS[3], id) == 0 then
  return {0, FOREIGN}
end
call('HSET', KEYS[4], id, ARGV[3])
local notBefore, now = tonumber(ARGV[4]), clockNow(ARGV[5])
local p = m[1]
local B = queueBase(KEYS[1])
local specs = limSpecs(B, {id})
local spec = specs and specs[1]
if spec then
  limFree(B, spec, now, false, false)
end
if notBefore > now then
  call('ZADD', KEYS[2], notBefore, id)
  call('HSET', KEYS[5], id, p .. ',0,0,,' .. string.format('%d', notBefore))
else
  local score = string.format('%d', (9 - tonumber(p)) * PRIORITY_SPAN + nextSeq(KEYS[6], 1))
  if spec then
    limHold(B, id, score, spec, now)
  else
    call('ZADD', KEYS[1], score, id)
  end
  call('HSET', KEYS[5], id, p .. ',' .. score .. ',0,,' .. string.format('%d', now))
  redis.call('PUBLISH', ARGV[6], '')
end
return {1, FOREIGN}
