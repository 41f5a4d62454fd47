--[[
  Shared by the ledger's scripts that look at BullMQ's jobs.

  Input (every script that includes this):
    KEYS[1] the tenant's active set: job id -> admission time (ms)

    ARGV[1] BullMQ's job key prefix (`<prefix>:<queue>:`): job hash `ARGV[1] .. id`,
            its lock `ARGV[1] .. id .. ':lock'`
    ARGV[2] the prefix of the ledger's cancelled job records
    ARGV[3] how long (ms) an admitted job may take to appear in BullMQ: admission and
            BullMQ's `add` are two steps
]]
local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)

local function adding(id)
  local admitted = redis.call('ZSCORE', KEYS[1], id)
  return admitted and now - tonumber(admitted) < tonumber(ARGV[3])
end

-- The job is in BullMQ, kept as a cancelled record, or still being added.
local function exists(id)
  return redis.call('EXISTS', ARGV[1] .. id, ARGV[2] .. id) > 0 or adding(id)
end

-- BullMQ sets `finishedOn` when a job completes or fails for good, not when it waits for a retry.
local function ended(id)
  local job = ARGV[1] .. id
  if redis.call('EXISTS', job) == 1 then
    return redis.call('HEXISTS', job, 'finishedOn') == 1
  end
  return not adding(id)
end

-- The slots in a running set still taken: a slot lasts as long as BullMQ's lock on its job,
-- which goes when the job leaves the active state and expires when its worker dies.
local function running(set)
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('EXISTS', ARGV[1] .. id .. ':lock') == 0 then
      redis.call('SREM', set, id)
    end
  end
  return redis.call('SCARD', set)
end
