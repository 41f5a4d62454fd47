--[[
  Checks the idempotency key and the tenant's cap on queued + running jobs, then records the
  new job as the tenant's. The active set may keep ids whose end was never recorded (a worker
  died in between): at the cap it is reconciled against BullMQ before anyone is refused.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the idempotency key
    KEYS[3] the tenant's list: job id -> place
    KEYS[4] the sequence of places
    KEYS[5] the set of tenants

    ARGV[1..3] see includes/common.lua
    ARGV[4] the new job's id
    ARGV[5] the cap
    ARGV[6] the tenant
    ARGV[7] '1' when there is an idempotency key

  Output:
    {'existing', id} the job admitted earlier under the same key
    {'refused', ''}  the tenant is at its cap
    {'created', id}
]]
--- @include "common"

if ARGV[7] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing and exists(existing) then
    return {'existing', existing}
  end
end
local cap = tonumber(ARGV[5])
if redis.call('ZCARD', KEYS[1]) >= cap then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if ended(id) then
      redis.call('ZREM', KEYS[1], id)
    end
  end
  if redis.call('ZCARD', KEYS[1]) >= cap then
    return {'refused', ''}
  end
end
local id = ARGV[4]
redis.call('ZADD', KEYS[1], now, id)
redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), id)
redis.call('SADD', KEYS[5], ARGV[6])
if ARGV[7] == '1' then
  redis.call('SET', KEYS[2], id)
end
return {'created', id}
