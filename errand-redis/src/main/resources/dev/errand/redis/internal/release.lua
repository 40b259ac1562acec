-- Returns a leased message to its original place and takes back its delivery count.
-- KEYS: 1 ready, 2 leased, 3 meta
-- ARGV: 1 id, 2 receipt, 3 wake channel, 4 now (ms, or '' for Redis's clock)
-- A limited message goes back among its key's held ones, and its start back to the key's rate.
-- Returns {1, or 0 if the receipt was stale; keys foreign values were moved to (see guard.lua)}.
guardKeys(3)
local id = ARGV[1]
local m = parseMeta(call('HGET', KEYS[3], id))
if not m or m[4] ~= ARGV[2] or call('ZREM', KEYS[2], id) == 0 then
  return {0, FOREIGN}
end
call('HSET', KEYS[3], id, m[1] .. ',' .. m[2] .. ',' .. math.max(m[3] - 1, 0) .. ',,' .. m[5])
local B = queueBase(KEYS[1])
local specs = limSpecs(B, {id})
if specs and specs[1] then
  limFree(B, specs[1], clockNow(ARGV[4]), true, true)
  fcall('ZADD', B .. 'held:' .. specs[1].key, m[2], id)
else
  call('ZADD', KEYS[1], m[2], id)
end
redis.call('PUBLISH', ARGV[3], '')
return {1, FOREIGN}
