-- Ends deliveries for good, checking each receipt.
-- KEYS: 1 leased, 2 body, 3 meta
-- ARGV: id, receipt, id, receipt, ...
-- Returns the ids whose receipt was stale.
local stale = {}
for i = 1, #ARGV, 2 do
  local id, receipt = ARGV[i], ARGV[i + 1]
  local v = redis.call('HGET', KEYS[3], id)
  local r = v and string.match(v, '^%d+,%d+,%d+,([^,]*),')
  if r == receipt and redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
  else
    stale[#stale + 1] = id
  end
end
return stale
