--[[
  A tenant's held set: its jobs parked in BullMQ's delayed set until one of its running slots
  frees. Scored by BullMQ's priority (lower first); members of one score sort as text, so each
  starts with the job's place in its tenant's list, zero-padded: the oldest first.
]]
local PLACE_DIGITS = 15

local function heldMember(list, id)
  return string.format('%0' .. PLACE_DIGITS .. 'd:', tonumber(redis.call('ZSCORE', list, id)) or 0) .. id
end
