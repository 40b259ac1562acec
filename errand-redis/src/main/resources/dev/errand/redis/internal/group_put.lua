-- Stores (replaces) a group's members: a list of expiresAt (ms, by the backend's clock) and then
-- the member ids in order, which Redis drops at the same ttl.
-- KEYS: 1 group list
-- ARGV: 1 ttl (ms), 2 expiresAt (ms), then the member ids
local items = {}
for i = 2, #ARGV do
  items[#items + 1] = ARGV[i]
end
redis.call('DEL', KEYS[1])
batched('RPUSH', KEYS[1], items)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
