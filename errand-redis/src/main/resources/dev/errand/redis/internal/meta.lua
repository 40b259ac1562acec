-- Shared by the scripts that read message metadata (prepended to them). A meta is
-- 'priority,score,deliveries,receipt,readyAt' (score: the message's place in ready; readyAt: ms).
local PRIORITY_SPAN = 4398046511104 -- 2^42 sequence numbers per priority band

-- {priority, score, deliveries, receipt, readyAt} of a stored meta value; nil if there is none;
-- false if it is not one Errand wrote: malformed, or out of range (a priority of 12, a deliveries
-- count of 1e+20), which would otherwise fail every claim of the message, or wrap around in Java.
local function parseMeta(v)
  if not v then
    return nil
  end
  local p, s, d, r, t = string.match(v, '^(%d),(%d+),(%d+),([^,]*),(%d+)$')
  if not p or #s > 16 or #d > 9 or #t > 15 then
    return false
  end
  return {p, s, tonumber(d), r, t}
end
