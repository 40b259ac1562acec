-- Shared by the scripts that touch many messages at once (prepended to them, after guard.lua): one
-- call per batch instead of one per message, which is most of a script's cost. Chunks keep unpack()
-- far below Lua's stack limit.
local CHUNK = 4000 -- arguments per call, even so field/value and score/member pairs stay whole

-- Calls command(key, [option,] args...) once per chunk of args; returns the replies in order when
-- asked. The option (say 'XX' for ZADD) goes into every chunk's call.
local function batched(command, key, args, collect, option)
  local out = collect and {} or nil
  for i = 1, #args, CHUNK do
    local last = math.min(i + CHUNK - 1, #args)
    local reply
    if option then
      reply = call(command, key, option, unpack(args, i, last))
    else
      reply = call(command, key, unpack(args, i, last))
    end
    if collect then
      for j = 1, #reply do
        out[#out + 1] = reply[j]
      end
    end
  end
  return out
end

-- For ack and renew: reads the (id, receipt) pairs of ARGV from index `first` on, and sorts the ids
-- into those whose receipt is the current lease's and the stale rest, with one HMGET of the metas.
local function checkReceipts(metaKey, first)
  local ids = {}
  for i = first, #ARGV, 2 do
    ids[#ids + 1] = ARGV[i]
  end
  local metas = batched('HMGET', metaKey, ids, true)
  local current, stale = {}, {}
  for k, id in ipairs(ids) do
    -- A meta carries the receipt of the current lease only (reaping and releasing clear it), so a
    -- matching receipt also means the id is in the leased set.
    local r = metas[k] and string.match(metas[k], '^%d+,%d+,%d+,([^,]*),')
    if r and r ~= '' and r == ARGV[first + 2 * k - 1] then
      current[#current + 1] = id
    else
      stale[#stale + 1] = id
    end
  end
  return current, stale
end
