--[[
  Takes the tenant's best held job out of its held set, for the caller to promote, if the tenant
  has a free slot. Needs common (its `running`) and held (its `PLACE_DIGITS`) before it.
]]
local function nextHeld(runningSet, held, cap)
  if running(runningSet) >= tonumber(cap) then
    return false
  end
  local member = redis.call('ZPOPMIN', held)[1]
  return member and string.sub(member, PLACE_DIGITS + 2)
end
