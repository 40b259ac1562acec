-- Reads a chord's state in one step, so its counts agree. Read-only.
-- KEYS: 1 chord hash, 2 parts hash
-- Returns {expiresAt, size, policy, failed, firing, parts recorded}, nil for a missing field.
local f = redis.call('HMGET', KEYS[1], 'expiresAt', 'size', 'policy', 'failed', 'firing')
return {f[1], f[2], f[3], f[4], f[5], redis.call('HLEN', KEYS[2])}
