-- Shared by the task index scripts (prepended to them, after batch.lua). The index of stored
-- statuses lives under one hash tag: PREFIX:{tasks}:state:S, :name:N, :queue:Q and :parent:ID
-- (sorted sets of ids by update time, ms; the state sets together hold every id), :meta (hash id ->
-- the indexed fields) and :expiry (sorted set of ids by expiry, ms). A meta is
-- 'expiresAt\0state\0name\0queue\0parent', with '' for a field the status does not have (which is
-- then in no set of that field).
local FIELDS = {'state:', 'name:', 'queue:', 'parent:'} -- meta fields 2 to 5

-- A meta's five fields, in one call (cheaper than splitting it piece by piece).
local META = '^(%d*)%z([^%z]*)%z([^%z]*)%z([^%z]*)%z(.*)$'

-- The five fields of a meta as a list: expiresAt, state, name, queue, parent; nil if malformed.
local function fields(meta)
  local e, s, n, q, p = string.match(meta, META)
  if not e then
    return nil
  end
  return {e, s, n, q, p}
end

-- Appends the values to the list under key in groups (a table of key -> list).
local function push(groups, key, a, b)
  local list = groups[key]
  if not list then
    list = {}
    groups[key] = list
  end
  list[#list + 1] = a
  if b then
    list[#list + 1] = b
  end
end

-- Appends score and id to the list of value in byValue (a table of value -> {score, id, ...,
-- n = its length}: keeping the length saves a length search per append).
local function append(byValue, value, score, id)
  local l = byValue[value]
  if l then
    local len = l.n
    l[len + 1], l[len + 2], l.n = score, id, len + 2
  else
    byValue[value] = {score, id, n = 2}
  end
end

-- Indexes stored statuses: list[first], list[first + 1], ... hold id, updatedAt (ms), meta per
-- status, each id once. A status whose state (or name, queue, parent) changed leaves the set of its
-- old value. Runs for every batch a worker stores, so per status it does little Lua work: one
-- pattern match of the new meta (and of the old one when there is one) and table appends; every
-- Redis call covers the whole batch.
-- prefix: 'PREFIX:{tasks}:', keys: {meta, expiry}
local function indexStatuses(prefix, keys, list, first)
  local match = string.match
  local ids = {}
  for i = first, #list, 3 do
    ids[#ids + 1] = list[i]
  end
  if #ids == 0 then
    return
  end
  local olds = batched('HMGET', keys[1], ids, true)
  local adds = {{}, {}, {}, {}} -- per field: value -> {score, id, ...}
  local removes = {} -- key -> ids
  local expiry, metas, c = {}, {}, 0
  local at = first
  for k = 1, #ids do
    local id, score, meta = ids[k], list[at + 1], list[at + 2]
    at = at + 3
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
    append(adds[1], s, score, id)
    if n ~= '' then
      append(adds[2], n, score, id)
    end
    if q ~= '' then
      append(adds[3], q, score, id)
    end
    if p ~= '' then
      append(adds[4], p, score, id)
    end
    expiry[c + 1], expiry[c + 2] = e, id
    metas[c + 1], metas[c + 2] = id, meta
    c = c + 2
  end
  for key, members in pairs(removes) do
    batched('ZREM', key, members)
  end
  for field = 1, 4 do
    for value, members in pairs(adds[field]) do
      batched('ZADD', prefix .. FIELDS[field] .. value, members)
    end
  end
  batched('ZADD', keys[2], expiry)
  batched('HSET', keys[1], metas)
end

-- Removes ids from every index, one call per key touched.
-- prefix: 'PREFIX:{tasks}:', keys: {meta, expiry}
local function unindex(prefix, keys, ids)
  local metas = batched('HMGET', keys[1], ids, true)
  local removes = {}
  for k, id in ipairs(ids) do
    local f = metas[k] and fields(metas[k])
    if f then
      for j = 2, 5 do
        if f[j] ~= '' then
          push(removes, prefix .. FIELDS[j - 1] .. f[j], id)
        end
      end
    end
  end
  for key, members in pairs(removes) do
    batched('ZREM', key, members)
  end
  batched('ZREM', keys[2], ids)
  batched('HDEL', keys[1], ids)
end

-- Removes up to max ids that expired at or before now from every index; returns how many.
local function trim(prefix, keys, now, max)
  if max <= 0 then
    return 0
  end
  local ids = redis.call('ZRANGE', keys[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, max)
  if #ids > 0 then
    unindex(prefix, keys, ids)
  end
  return #ids
end
