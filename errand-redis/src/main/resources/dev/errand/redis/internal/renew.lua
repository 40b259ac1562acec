-- Extends leases, checking each receipt.
-- KEYS: 1 leased, 2 meta
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 lease (ms), then id, receipt, id, receipt, ...
-- Returns {the ids whose receipt was stale, keys foreign values were moved to (see guard.lua)}.
guardKeys(2)
local current, stale = checkReceipts(KEYS[2], 3)
if #current > 0 then
  local deadline = string.format('%d', clockNow(ARGV[1]) + tonumber(ARGV[2]))
  local leases = {}
  for _, id in ipairs(current) do
    leases[#leases + 1] = deadline
    leases[#leases + 1] = id
  end
  batched('ZADD', KEYS[1], leases, false, 'XX')
end
return {stale, FOREIGN}
