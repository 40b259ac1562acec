-- Enqueues messages into one queue, each atomically with its idempotency key.
-- KEYS: 1 ready, 2 delayed, 3 body, 4 meta, 5 seq, 6.. idempotency keys
-- ARGV: 1 now (ms), 2 wake channel, 3 count, then per message:
--       id, priority, body, notBefore (ms, 0 = now), idempotency key index (0 = none), window (ms)
-- Returns {one string per message: '' when enqueued, else the id that holds the key;
--          '' or the key a foreign value found under the ready key was moved to}.
local PRIORITY_SPAN = 4398046511104 -- 2^42 sequence numbers per priority band
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
local out = {}
local ready = false
local quarantine = ''
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'zset' and kind ~= 'none' then
  quarantine = KEYS[1] .. ':foreign:' .. string.format('%d', now)
  redis.call('RENAME', KEYS[1], quarantine)
end
for i = 0, n - 1 do
  local b = 4 + i * 6
  local id, prio, body = ARGV[b], tonumber(ARGV[b + 1]), ARGV[b + 2]
  local notBefore, keyIndex, window = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local holder = nil
  if keyIndex > 0 then
    local held = redis.call('GET', KEYS[keyIndex])
    if held then
      local sep = string.find(held, '|', 1, true)
      if sep and tonumber(string.sub(held, 1, sep - 1)) > now then
        holder = string.sub(held, sep + 1)
      end
    end
    if not holder then
      redis.call('SET', KEYS[keyIndex], string.format('%d', now + window) .. '|' .. id,
        'PX', math.max(window, 1))
    end
  end
  if holder then
    out[#out + 1] = holder
  else
    out[#out + 1] = ''
    redis.call('HSET', KEYS[3], id, body)
    if notBefore > now then
      redis.call('ZADD', KEYS[2], notBefore, id)
      redis.call('HSET', KEYS[4], id, prio .. ',0,0,,' .. string.format('%d', notBefore))
    else
      local score = string.format('%d', (9 - prio) * PRIORITY_SPAN + redis.call('INCR', KEYS[5]))
      redis.call('ZADD', KEYS[1], score, id)
      redis.call('HSET', KEYS[4], id, prio .. ',' .. score .. ',0,,' .. string.format('%d', now))
      ready = true
    end
  end
end
if ready then
  redis.call('PUBLISH', ARGV[2], '')
end
return {out, quarantine}
