--[[
  Records as held a job whose start answered 'wait', once its worker parked it in BullMQ's
  delayed set (not as its start answers: a promotion before then would be refused, the job
  still being active). A slot that freed in between is found here instead.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the tenant's running set
    KEYS[3] the tenant's held set
    KEYS[4] the tenant's list
    KEYS[5] the job's cancel flag
    KEYS[6] BullMQ's delayed set

    ARGV[1..3] see includes/common.lua
    ARGV[4] the job's id
    ARGV[5] the cap on the tenant's running jobs
    ARGV[6] the job's BullMQ priority

  Output:
    the job itself when a cancel came first, for its next start to end it (a cancel after
    this finds it held); else the tenant's best held job when one of its slots is free, to
    promote; else false
]]
--- @include "common"
--- @include "held"
--- @include "nextHeld"

local id = ARGV[4]
if redis.call('EXISTS', KEYS[5]) == 1 then
  return id
end
-- Not delayed any more: removed by a cancel meanwhile.
if redis.call('ZSCORE', KEYS[6], id) then
  redis.call('ZADD', KEYS[3], ARGV[6], heldMember(KEYS[4], id))
end
return nextHeld(KEYS[2], KEYS[3], ARGV[5])
