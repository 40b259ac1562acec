-- Reads one schedule, or all, in one step so a body never comes with another write's version.
-- KEYS: 1 bodies, 2 versions
-- ARGV: 1 name (absent: all)
-- Returns name, version, body for each schedule found, flat.
local names = ARGV[1] and {ARGV[1]} or redis.call('HKEYS', KEYS[2])
local out = {}
for _, name in ipairs(names) do
  local version = redis.call('HGET', KEYS[2], name)
  if version then
    out[#out + 1] = name
    out[#out + 1] = version
    out[#out + 1] = redis.call('HGET', KEYS[1], name)
  end
end
return out
