-- Shared by the scripts that touch many messages at once (prepended to them): one redis.call per
-- batch instead of one per message, which is most of a script's cost. Chunks keep unpack() far
-- below Lua's stack limit.
local CHUNK = 4000 -- arguments per call, even so field/value and score/member pairs stay whole

-- Calls command(key, args...) once per chunk of args; returns the replies in order when asked.
local function batched(command, key, args, collect)
  local out = collect and {} or nil
  for i = 1, #args, CHUNK do
    local reply = redis.call(command, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
    if collect then
      for j = 1, #reply do
        out[#out + 1] = reply[j]
      end
    end
  end
  return out
end
