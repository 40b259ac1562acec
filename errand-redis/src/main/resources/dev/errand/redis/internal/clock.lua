-- Shared by the scripts that decide by time (prepended to them): which time that is.
-- A backend opened with the system clock passes '' and the script reads Redis's own clock, so the
-- clock of the calling process never decides a lease, a delay, an expiry or a leadership (a host
-- whose clock is a minute ahead cannot reap a running task). A backend opened with a test clock
-- passes its time in ms. TIME before writes needs script effects replication: Redis 6.2 or newer.

-- Now in ms: `given` when the caller passed one, else Redis's TIME.
local function clockNow(given)
  if given ~= '' then
    return tonumber(given)
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
