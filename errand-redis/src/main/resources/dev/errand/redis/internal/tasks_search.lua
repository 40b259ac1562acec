-- Walks the task index newest first (update time descending, then id descending, which is how a
-- sorted set orders by score in reverse) from a cursor, and lists or counts the ids whose meta
-- matches the filters and has not expired. With filters, the smallest of their sets is walked (each
-- holds every match, so any would do); without, the state sets are merged (together they hold every
-- id). Examines at most `budget` ids, so one call never holds Redis long; the caller continues
-- after the returned position. Read-only.
-- KEYS: 1 meta, 2.. the candidate sets: the set of each filter given, or every state set
-- ARGV: 1 now (ms), 2 cursor: after this update time (ms), or '' to start at the newest,
--       3 cursor id, 4 from (ms, inclusive) or '', 5 to (ms, exclusive) or '',
--       6 how many matches to list (0: count them instead), 7 most ids to examine,
--       8 '1' to merge the candidate sets (no filter given), '0' to walk the smallest,
--       9 start of the first time bucket (ms) or '' for none, 10 bucket length (ms),
--       11 bucket count (when counting, the matches are also counted per bucket of update time),
--       then per filter: field number (2 state, 3 name, 4 queue, 5 parent), value
-- Returns {matches counted, {id, update time, ...} listed (or, counting in buckets, the count of
--          each bucket), 1 if the walk reached the end else 0, update time and id of the last id
--          examined (where to continue), or '' and ''}.
local now = tonumber(ARGV[1])
local cursorText, cursorId = ARGV[2], ARGV[3]
local cursor = cursorText ~= '' and tonumber(cursorText) or nil
local from = ARGV[4] ~= '' and tonumber(ARGV[4]) or nil
local to = ARGV[5] ~= '' and tonumber(ARGV[5]) or nil
local want, budget = tonumber(ARGV[6]), tonumber(ARGV[7])
local merge = ARGV[8] == '1'
local bucketStart = ARGV[9] ~= '' and tonumber(ARGV[9]) or nil
local bucketStep, bucketCount = tonumber(ARGV[10]), tonumber(ARGV[11])

-- One pattern checks a meta against every filter and captures its expiry: a filtered field must
-- be the value (each non-alphanumeric byte escaped), any other field is anything.
local parts = {'^(%d*)', '[^%z]*', '[^%z]*', '[^%z]*', '[^%z]*'}
for i = 12, #ARGV, 2 do
  parts[tonumber(ARGV[i])] = string.gsub(ARGV[i + 1], '%W', '%%%0')
end
local pattern = table.concat(parts, '%z') .. '$'

-- Whether a sorts before b byte by byte (as sorted set members do; Lua's < follows the locale).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

-- Reverse rank in key of the first id after the cursor: after the cursor's own rank when it is
-- still there with the same time, else found by bisecting the ids of that millisecond.
local function afterCursor(key)
  local s = redis.call('ZSCORE', key, cursorId)
  if s and tonumber(s) == cursor then
    return redis.call('ZREVRANK', key, cursorId) + 1
  end
  local lo = redis.call('ZCOUNT', key, '(' .. cursorText, '+inf')
  local hi = lo + redis.call('ZCOUNT', key, cursorText, cursorText)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if before(redis.call('ZRANGE', key, mid, mid, 'REV')[1], cursorId) then
      hi = mid
    else
      lo = mid + 1
    end
  end
  return lo
end

-- Reverse rank in key of the first id to examine: after the cursor and before `to`.
local function start(key)
  local pos = 0
  if to then
    pos = redis.call('ZCOUNT', key, string.format('%d', to), '+inf')
  end
  if cursor then
    pos = math.max(pos, afterCursor(key))
  end
  return pos
end

-- A source of ids in walk order: take(size) returns up to size {id, time} pairs flat, {} at the end.
local take
if not merge then
  local key = KEYS[2]
  if #KEYS > 2 then
    -- the smallest candidate set within the time range
    local top = to and to - 1 or nil
    if cursor and (not top or cursor < top) then
      top = cursor
    end
    local lo = from and string.format('%d', from) or '-inf'
    local hi = top and string.format('%d', top) or '+inf'
    local best = nil
    for i = 2, #KEYS do
      local n = redis.call('ZCOUNT', KEYS[i], lo, hi)
      if not best or n < best then
        best, key = n, KEYS[i]
      end
    end
  end
  local pos = start(key)
  take = function(size)
    local got = redis.call('ZRANGE', key, pos, pos + size - 1, 'REV', 'WITHSCORES')
    pos = pos + #got / 2
    return got
  end
else
  -- Each set's read-ahead buffer; the newest head among them comes next. A buffer starts small and
  -- doubles, as most pages come from one or two of the sets.
  local sources = {}
  for i = 2, #KEYS do
    sources[#sources + 1] = {key = KEYS[i], pos = start(KEYS[i]), buf = {}, at = 1, size = 16}
  end
  local function head(src, size)
    if src.done then
      return nil
    end
    if src.at > #src.buf then
      local n = math.min(src.size, size)
      src.buf = redis.call('ZRANGE', src.key, src.pos, src.pos + n - 1, 'REV', 'WITHSCORES')
      src.pos, src.at, src.size = src.pos + #src.buf / 2, 1, src.size * 2
      if #src.buf == 0 then
        src.done = true
        return nil
      end
    end
    return src.buf[src.at], tonumber(src.buf[src.at + 1])
  end
  take = function(size)
    local out = {}
    while #out < 2 * size do
      local best, bestId, bestTime = nil, nil, nil
      for _, src in ipairs(sources) do
        local id, time = head(src, size)
        if id and (not best or time > bestTime or (time == bestTime and before(bestId, id))) then
          best, bestId, bestTime = src, id, time
        end
      end
      if not best then
        break
      end
      out[#out + 1] = bestId
      out[#out + 1] = best.buf[best.at + 1]
      best.at = best.at + 2
    end
    return out
  end
end

local count, out, done = 0, {}, 0
if bucketStart and want == 0 then
  for b = 1, bucketCount do
    out[b] = 0
  end
end
local lastTime, lastId = '', ''
local examined = 0
local chunk = math.max(2 * want, 64)
while true do
  local size = math.min(chunk, budget - examined)
  if size <= 0 then
    break
  end
  local got = take(size)
  if #got == 0 then
    done = 1
    break
  end
  local ids = {}
  for i = 1, #got, 2 do
    ids[#ids + 1] = got[i]
  end
  local metas = batched('HMGET', KEYS[1], ids, true)
  local stop = false
  for k, id in ipairs(ids) do
    local time = got[2 * k]
    if from and tonumber(time) < from then
      done, stop = 1, true
      break
    end
    examined = examined + 1
    lastTime, lastId = time, id
    local expiresAt = metas[k] and string.match(metas[k], pattern)
    if expiresAt and tonumber(expiresAt) > now then
      count = count + 1
      if bucketStart and want == 0 then
        local b = math.floor((tonumber(time) - bucketStart) / bucketStep) + 1
        if b >= 1 and b <= bucketCount then
          out[b] = out[b] + 1
        end
      elseif want > 0 then
        out[#out + 1] = id
        out[#out + 1] = time
        if count >= want then
          stop = true
          break
        end
      end
    end
  end
  if stop then
    break
  end
  chunk = math.min(chunk * 2, 1000)
end
return {count, out, done, lastTime, lastId}
