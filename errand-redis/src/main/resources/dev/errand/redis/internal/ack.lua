-- Ends deliveries for good, checking each receipt.
-- KEYS: 1 leased, 2 body, 3 meta
-- ARGV: id, receipt, id, receipt, ...
-- Returns the ids whose receipt was stale.
local ids = {}
for i = 1, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
end
local metas = batched('HMGET', KEYS[3], ids, true)
local stale, done = {}, {}
for k, id in ipairs(ids) do
  local v = metas[k]
  -- The meta carries the receipt of the current lease only (reaping and releasing clear it).
  local r = v and string.match(v, '^%d+,%d+,%d+,([^,]*),')
  if r ~= nil and r ~= '' and r == ARGV[2 * k] then
    done[#done + 1] = id
  else
    stale[#stale + 1] = id
  end
end
if #done > 0 then
  batched('ZREM', KEYS[1], done)
  batched('HDEL', KEYS[2], done)
  batched('HDEL', KEYS[3], done)
end
return stale
