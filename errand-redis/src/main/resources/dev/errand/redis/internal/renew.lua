-- Extends leases, checking each receipt.
-- KEYS: 1 leased, 2 meta
-- ARGV: 1 new deadline (ms), then id, receipt, id, receipt, ...
-- Returns the ids whose receipt was stale.
local current, stale = checkReceipts(KEYS[2], 2)
local leases = {}
for _, id in ipairs(current) do
  leases[#leases + 1] = ARGV[1]
  leases[#leases + 1] = id
end
if #leases > 0 then
  batched('ZADD', KEYS[1], leases, false, 'XX')
end
return stale
