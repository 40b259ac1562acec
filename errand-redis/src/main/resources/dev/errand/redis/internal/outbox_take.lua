-- Takes a queue's outbox entries (Redis Cluster: a settlement's parts outside the queue's slot, see
-- settle.lua) older than a grace period: the process that wrote them died before applying them, or
-- before deleting them. Each entry taken is stamped with now, so another process sweeping at the
-- same time leaves it alone for the grace period; the caller applies it and then deletes it.
-- KEYS: 1 the outbox hash
-- ARGV: 1 now (ms, or '' for Redis's clock), 2 grace (ms), 3 at most this many entries
-- Returns field, entry (without its stamp), field, entry...
local now = clockNow(ARGV[1])
local before = now - tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local out, stamps = {}, {}
local cursor = '0'
repeat
  local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 100)
  cursor = page[1]
  local kv = page[2]
  for i = 1, #kv, 2 do
    local stamp, entry = string.match(kv[i + 1], '^(%d+)|(.*)$')
    if not stamp then
      stamp, entry = '0', kv[i + 1] -- not written by Errand: taken now, the caller dead-letters it
    end
    if tonumber(stamp) <= before and #out < 2 * max then
      out[#out + 1] = kv[i]
      out[#out + 1] = entry
      stamps[#stamps + 1] = kv[i]
      stamps[#stamps + 1] = string.format('%d', now) .. '|' .. entry
    end
  end
until cursor == '0' or #out >= 2 * max
if #stamps > 0 then
  redis.call('HSET', KEYS[1], unpack(stamps))
end
return out
