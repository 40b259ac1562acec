-- Extends leases, checking each receipt.
-- KEYS: 1 leased, 2 meta
-- ARGV: 1 new deadline (ms), then id, receipt, id, receipt, ...
-- Returns the ids whose receipt was stale.
local ids = {}
for i = 2, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
end
local metas = batched('HMGET', KEYS[2], ids, true)
local stale, leases = {}, {}
for k, id in ipairs(ids) do
  local v = metas[k]
  local r = v and string.match(v, '^%d+,%d+,%d+,([^,]*),')
  if r ~= nil and r ~= '' and r == ARGV[2 * k + 1] and redis.call('ZSCORE', KEYS[1], id) then
    leases[#leases + 1] = ARGV[1]
    leases[#leases + 1] = id
  else
    stale[#stale + 1] = id
  end
end
if #leases > 0 then
  batched('ZADD', KEYS[1], leases)
end
return stale
