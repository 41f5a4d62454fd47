--[[
  Drops from one batch of the tenant's list the jobs that no longer exist (purged by
  retention), and ended runs from its running set; a tenant left without jobs leaves the set
  of tenants.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the tenant's list
    KEYS[3] the set of tenants
    KEYS[4] the tenant's running set

    ARGV[1..3] see includes/common.lua
    ARGV[4] the tenant
    ARGV[5] the batch's first place in the list (0-based rank)
    ARGV[6] the batch's size

  Output:
    {ids seen, ids removed}
]]
--- @include "common"

running(KEYS[4])
local ids = redis.call('ZRANGE', KEYS[2], ARGV[5], ARGV[5] + ARGV[6] - 1)
local removed = 0
for _, id in ipairs(ids) do
  if not exists(id) then
    redis.call('ZREM', KEYS[2], id)
    removed = removed + 1
  end
end
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[4])
end
return {#ids, removed}
