-- Indexes stored statuses (sent after their SETs, in the same pipeline; see indexStatuses in
-- tasks_common.lua), then trims a bounded number of expired ids, so expired statuses leave the
-- indexes as new ones arrive.
-- KEYS: 1 meta, 2 expiry
-- ARGV: 1 index key prefix ('PREFIX:{tasks}:'), 2 now (ms), 3 most expired ids to trim,
--       then per status (each id once): id, updatedAt (ms), meta
-- Returns how many expired ids were trimmed.
indexStatuses(ARGV[1], KEYS, ARGV, 4)
return trim(ARGV[1], KEYS, ARGV[2], tonumber(ARGV[3]))
