--[[
  Flags a job a worker has for cancel; a held one leaves its held set.

  Input:
    KEYS[1] the job's cancel flag
    KEYS[2] the tenant's held set
    KEYS[3] the tenant's list

    ARGV[1] the job's id
    ARGV[2] the retention (ms)

  Output:
    1 when the job was held, for the caller to promote it: its next start ends it; else 0
]]
--- @include "held"

redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return redis.call('ZREM', KEYS[2], heldMember(KEYS[3], ARGV[1]))
