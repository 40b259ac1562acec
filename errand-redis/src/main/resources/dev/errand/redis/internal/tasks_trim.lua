-- Removes up to max expired ids from every task index (see tasks_common.lua).
-- KEYS: 1 meta, 2 expiry
-- ARGV: 1 index key prefix ('PREFIX:{tasks}:'), 2 now (ms), 3 max
-- Returns how many were removed: max means there may be more.
return trim(ARGV[1], KEYS, ARGV[2], tonumber(ARGV[3]))
