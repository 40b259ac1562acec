-- Sends Celery messages. ARGV: now ('' = Redis's clock), then per message: list key, envelope,
-- binding set key ('' = none), binding member, idempotency key ('' = none), task id, window ms.
-- The binding is kombu's routing entry for the queue (a Python producer publishing through an
-- exchange finds the queue by it). Returns per message '' or the id that holds the key.
local now = clockNow(ARGV[1])
local out = {}
for i = 2, #ARGV, 7 do
  local key, env, bindKey, bindMember = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local idem, id, window = ARGV[i + 4], ARGV[i + 5], tonumber(ARGV[i + 6])
  local holder = ''
  if idem ~= '' then
    local prev = redis.call('GET', idem)
    if prev then
      holder = prev
    else
      redis.call('SET', idem, id, 'PX', window)
    end
  end
  if holder == '' then
    redis.call('LPUSH', key, env)
    if bindKey ~= '' then
      redis.call('SADD', bindKey, bindMember)
    end
  end
  out[#out + 1] = holder
end
return out
