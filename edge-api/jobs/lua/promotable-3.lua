--[[
  Takes the tenant's best held job off its held set when one of its slots is free.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the tenant's running set
    KEYS[3] the tenant's held set

    ARGV[1..3] see includes/common.lua
    ARGV[4] the cap on the tenant's running jobs

  Output:
    the job to promote, or false
]]
--- @include "common"
--- @include "held"
--- @include "nextHeld"

return nextHeld(KEYS[2], KEYS[3], ARGV[4])
