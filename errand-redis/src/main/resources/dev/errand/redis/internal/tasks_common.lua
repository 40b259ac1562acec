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
