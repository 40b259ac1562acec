-- Deletes the ready and delayed messages of one queue; leased ones finish normally.
-- KEYS: 1 ready, 2 delayed, 3 body, 4 meta
-- Returns {how many were deleted, keys foreign values were moved to (see guard.lua)}.
guardKeys(4)
local count = 0
for k = 1, 2 do
  local ids = call('ZRANGE', KEYS[k], 0, -1)
  for i = 1, #ids, 1000 do
    local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
    call('HDEL', KEYS[3], unpack(chunk))
    call('HDEL', KEYS[4], unpack(chunk))
  end
  count = count + #ids
  call('DEL', KEYS[k])
end
return {count, FOREIGN}
