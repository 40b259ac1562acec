-- Indexes stored statuses (sent after their SETs, in the same pipeline), then trims a bounded
-- number of expired ids, so expired statuses leave the indexes as new ones arrive. A status whose
-- state (or name, queue, parent) changed leaves the set of its old value. This runs for every batch
-- a worker stores, so per status it does little Lua work: one pattern match of the new meta (and
-- of the old one when there is one) and table appends; every Redis call covers the whole batch.
-- KEYS: 1 meta, 2 expiry
-- ARGV: 1 index key prefix ('PREFIX:{tasks}:'), 2 now (ms), 3 most expired ids to trim,
--       then per status (each id once): id, updatedAt (ms), meta
-- Returns how many expired ids were trimmed.
local prefix = ARGV[1]
local match = string.match
local ids = {}
for i = 4, #ARGV, 3 do
  ids[#ids + 1] = ARGV[i]
end
local olds = batched('HMGET', KEYS[1], ids, true)
local adds = {{}, {}, {}, {}} -- per field: value -> {score, id, ...}
local removes = {} -- key -> ids
local expiry, metas = {}, {}
local function add(field, value, score, id)
  local list = adds[field][value]
  if not list then
    list = {}
    adds[field][value] = list
  end
  list[#list + 1] = score
  list[#list + 1] = id
end
for k, id in ipairs(ids) do
  local score, meta = ARGV[3 * k + 2], ARGV[3 * k + 3]
  local e, s, n, q, p = match(meta, META)
  local old = olds[k]
  if old then
    local _, os, on, oq, op = match(old, META)
    if os and os ~= s then
      push(removes, prefix .. 'state:' .. os, id)
    end
    if on and on ~= '' and on ~= n then
      push(removes, prefix .. 'name:' .. on, id)
    end
    if oq and oq ~= '' and oq ~= q then
      push(removes, prefix .. 'queue:' .. oq, id)
    end
    if op and op ~= '' and op ~= p then
      push(removes, prefix .. 'parent:' .. op, id)
    end
  end
  add(1, s, score, id)
  if n ~= '' then
    add(2, n, score, id)
  end
  if q ~= '' then
    add(3, q, score, id)
  end
  if p ~= '' then
    add(4, p, score, id)
  end
  local c = #expiry
  expiry[c + 1], expiry[c + 2] = e, id
  metas[c + 1], metas[c + 2] = id, meta
end
for key, members in pairs(removes) do
  batched('ZREM', key, members)
end
for field = 1, 4 do
  for value, members in pairs(adds[field]) do
    batched('ZADD', prefix .. FIELDS[field] .. value, members)
  end
end
batched('ZADD', KEYS[2], expiry)
batched('HSET', KEYS[1], metas)
return trim(prefix, KEYS, ARGV[2], tonumber(ARGV[3]))
