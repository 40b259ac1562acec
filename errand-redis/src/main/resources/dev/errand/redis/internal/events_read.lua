-- Reads the entries that may hold events with sequence > after.
-- KEYS: 1 stream, 2 sequence counter
-- ARGV: 1 after, 2 most entries
-- Returns {last sequence, entry at or before after+1 or {}, entries after it}.
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = string.format('%d', tonumber(ARGV[1]) + 1)
local before = redis.call('XREVRANGE', KEYS[1], start .. '-0', '-', 'COUNT', 1)
local after = redis.call('XRANGE', KEYS[1], '(' .. start .. '-0', '+', 'COUNT', tonumber(ARGV[2]))
return {string.format('%d', last), before, after}
