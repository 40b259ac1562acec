-- How many dead letters each queue holds, in one call. Read-only.
-- KEYS: 1 queue-name set. ARGV: 1 prefix of queue index keys
-- Returns {queue, count, ...} for every queue with at least one dead letter.
local out = {}
for _, queue in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local n = redis.call('ZCARD', ARGV[1] .. queue)
  if n > 0 then
    out[#out + 1] = queue
    out[#out + 1] = n
  end
end
return out
