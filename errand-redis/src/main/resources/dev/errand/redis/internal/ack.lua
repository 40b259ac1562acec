-- Ends deliveries for good, checking each receipt.
-- KEYS: 1 leased, 2 body, 3 meta
-- ARGV: 1 now (ms, or '' for Redis's clock), then id, receipt, id, receipt, ...
-- Returns {the ids whose receipt was stale, keys foreign values were moved to (see guard.lua)}.
guardKeys(3)
local done, stale = checkReceipts(KEYS[3], 2)
if #done > 0 then
  batched('ZREM', KEYS[1], done)
  batched('HDEL', KEYS[2], done)
  batched('HDEL', KEYS[3], done)
  flowRemoved(string.sub(KEYS[3], 1, #KEYS[3] - 4), done, clockNow(ARGV[1]), true)
end
return {stale, FOREIGN}
