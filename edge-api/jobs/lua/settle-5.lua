--[[
  Records that a job reached a final state: it leaves the cap (and its held set, when it was
  cancelled while held); its idempotency key, which lives while the job is active, starts to
  age for the retention period.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the idempotency key
    KEYS[3] the set of cancelled jobs: id -> cancelled at
    KEYS[4] the tenant's held set
    KEYS[5] the tenant's list

    ARGV[1] the job's id
    ARGV[2] the retention (ms)
    ARGV[3] '1' when there is an idempotency key
    ARGV[4] when it was cancelled (ms), or '' when it was not
]]
--- @include "held"

redis.call('ZREM', KEYS[4], heldMember(KEYS[5], ARGV[1]))
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
