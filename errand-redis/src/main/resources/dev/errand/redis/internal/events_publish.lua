-- Appends one entry holding n events (newline-separated JSON) to the capped event stream. The
-- entry id's first part is the sequence number of its first event; entries that hold only events
-- older than the capacity are trimmed.
-- KEYS: 1 stream, 2 sequence counter
-- ARGV: 1 capacity, 2 n, 3 events, 4 largest entry size
local n = tonumber(ARGV[2])
local last = redis.call('INCRBY', KEYS[2], n)
local first = last - n + 1
local keepFrom = last - tonumber(ARGV[1]) - tonumber(ARGV[4]) + 1
redis.call('XADD', KEYS[1], 'MINID', string.format('%d', math.max(keepFrom, 0)),
  string.format('%d', first) .. '-0', 'n', n, 'e', ARGV[3])
return last
