-- A Celery queue's counts. KEYS[6..9]: its four lists, most urgent first. ARGV: now, queue,
-- paused-set key. Returns {ready per list (4), leased, parked, paused}.
local now = clockNow(ARGV[1])
local out = {}
for i = 6, 9 do
  local ok, n = pcall(redis.call, 'LLEN', KEYS[i])
  out[#out + 1] = ok and n or 0
end
local mine = {}
for i = 6, 9 do
  mine[KEYS[i]] = true
end
local leased, parked = 0, 0
local held = redis.call('HVALS', KEYS[3])
for _, rec in ipairs(held) do
  local state, count, r, key = parseHeld(rec)
  if key and mine[key] then
    if state == 'P' then
      parked = parked + 1
    else
      leased = leased + 1
    end
  end
end
out[5] = leased
out[6] = parked
out[7] = redis.call('SISMEMBER', ARGV[3], ARGV[2])
return out
