-- Changes a queue's shard layout (see QueueShards): the hash field queue -> 'n[;old@sinceMs]...'.
-- KEYS: 1 the layouts hash
-- ARGV: 1 'set' or 'forget', 2 queue, 3 for 'set': the new count, for 'forget': the draining entry
--       ('old@sinceMs') to drop, 4 now (ms)
-- 'set' keeps the old count as draining (unless it is the new one), 'forget' drops a draining entry
-- if it is still there. Returns the new value ('' for an unsharded queue with nothing draining).
local value = redis.call('HGET', KEYS[1], ARGV[2]) or '1'
if not string.match(value, '^%d+$') and not string.match(value, '^%d+;[%d;@]+$') then
  value = '1' -- not a layout Errand wrote (QueueShards reads it as unsharded too): start afresh
end
local parts = {}
for p in string.gmatch(value, '[^;]+') do
  parts[#parts + 1] = p
end
local current, draining = parts[1], {}
for i = 2, #parts do
  draining[#draining + 1] = parts[i]
end
if ARGV[1] == 'set' then
  if current == ARGV[3] then
    return value == '1' and '' or value
  end
  local kept = {}
  for _, d in ipairs(draining) do
    if string.match(d, '^(%d+)@') ~= ARGV[3] then
      kept[#kept + 1] = d
    end
  end
  kept[#kept + 1] = current .. '@' .. ARGV[4]
  draining, current = kept, ARGV[3]
else
  local kept = {}
  for _, d in ipairs(draining) do
    if d ~= ARGV[3] then
      kept[#kept + 1] = d
    end
  end
  draining = kept
end
local new = current
for _, d in ipairs(draining) do
  new = new .. ';' .. d
end
if new == '1' then
  redis.call('HDEL', KEYS[1], ARGV[2])
  return ''
end
redis.call('HSET', KEYS[1], ARGV[2], new)
return new
