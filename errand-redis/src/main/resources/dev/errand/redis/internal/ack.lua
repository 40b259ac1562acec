-- Ends deliveries for good, checking each receipt.
-- KEYS: 1 leased, 2 body, 3 meta
-- ARGV: id, receipt, id, receipt, ...
-- Returns {the ids whose receipt was stale, keys foreign values were moved to (see guard.lua)}.
guardKeys(3)
local done, stale = checkReceipts(KEYS[3], 1)
if #done > 0 then
  batched('ZREM', KEYS[1], done)
  batched('HDEL', KEYS[2], done)
  batched('HDEL', KEYS[3], done)
end
return {stale, FOREIGN}
