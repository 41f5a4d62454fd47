--[[
  Takes one of the tenant's running slots for a job a worker was just handed (holding BullMQ's
  lock on it).

  A job held back gives back the start BullMQ counted when it handed the job over (BullMQ's
  `ats` counts runs, and `processedOn` is the last run's start), so that waiting for a slot
  never uses up its attempts: BullMQ has no command for this. A job a worker holds is never
  held (its recheck delay may have brought it back): a later end must not promote it, out of a
  retry's backoff perhaps. A start is announced: BullMQ has no event for it, and whoever read
  the job since BullMQ's `active` event saw it queued.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the tenant's running set
    KEYS[3] the job's cancel flag
    KEYS[4] the tenant's held set
    KEYS[5] the tenant's list

    ARGV[1..3] see includes/common.lua
    ARGV[4] the job's id
    ARGV[5] the cap on the tenant's running jobs
    ARGV[6] the channel on which starts are announced

  Output:
    'run'       the job took a slot
    'cancelled' a cancel came first
    'wait'      the tenant is at its cap: the worker must park the job
]]
--- @include "common"
--- @include "held"

local id = ARGV[4]
redis.call('ZREM', KEYS[4], heldMember(KEYS[5], id))
if redis.call('EXISTS', KEYS[3]) == 1 then
  return 'cancelled'
end
local count = running(KEYS[2])
if redis.call('SISMEMBER', KEYS[2], id) == 1 or count < tonumber(ARGV[5]) then
  redis.call('SADD', KEYS[2], id)
  redis.call('PUBLISH', ARGV[6], id)
  return 'run'
end
local job = ARGV[1] .. id
if redis.call('HINCRBY', job, 'ats', -1) == 0 then
  redis.call('HDEL', job, 'processedOn')
end
return 'wait'
