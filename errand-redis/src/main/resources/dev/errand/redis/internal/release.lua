-- Returns a leased message to its original place and takes back its delivery count.
-- KEYS: 1 ready, 2 leased, 3 meta
-- ARGV: 1 id, 2 receipt, 3 wake channel
-- Returns {1, or 0 if the receipt was stale; keys foreign values were moved to (see guard.lua)}.
guardKeys(3)
local id = ARGV[1]
local m = parseMeta(call('HGET', KEYS[3], id))
if not m or m[4] ~= ARGV[2] or call('ZREM', KEYS[2], id) == 0 then
  return {0, FOREIGN}
end
call('HSET', KEYS[3], id, m[1] .. ',' .. m[2] .. ',' .. math.max(m[3] - 1, 0) .. ',,' .. m[5])
call('ZADD', KEYS[1], m[2], id)
redis.call('PUBLISH', ARGV[3], '')
return {1, FOREIGN}
