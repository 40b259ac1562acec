-- Takes or renews a group's leader lease: allowed if there is none, it has expired, or the
-- candidate holds it. A lease is 'expiresAt\nholder'.
-- KEYS: 1 leases
-- ARGV: 1 group, 2 candidate, 3 now (ms, or '' for Redis's clock), 4 ttl (ms)
-- Returns 1 if the candidate holds the lease now, else 0.
local now = clockNow(ARGV[3])
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local nl = string.find(held, '\n', 1, true)
  local live = tonumber(string.sub(held, 1, nl - 1)) > now
  if live and string.sub(held, nl + 1) ~= ARGV[2] then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', now + tonumber(ARGV[4])) .. '\n' .. ARGV[2])
return 1
