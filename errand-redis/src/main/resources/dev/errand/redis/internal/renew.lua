-- Extends leases, checking each receipt.
-- KEYS: 1 leased, 2 meta
-- ARGV: 1 new deadline (ms), then id, receipt, id, receipt, ...
-- Returns the ids whose receipt was stale.
local stale = {}
for i = 2, #ARGV, 2 do
  local id, receipt = ARGV[i], ARGV[i + 1]
  local v = redis.call('HGET', KEYS[2], id)
  local r = v and string.match(v, '^%d+,%d+,%d+,([^,]*),')
  if r == receipt and redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1], id)
  else
    stale[#stale + 1] = id
  end
end
return stale
