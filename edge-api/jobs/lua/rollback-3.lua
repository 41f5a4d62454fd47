--[[
  Undoes an admission whose job BullMQ could not add.

  Input:
    KEYS[1] the tenant's active set
    KEYS[2] the tenant's list
    KEYS[3] the idempotency key

    ARGV[1] the job's id
    ARGV[2] '1' when there is an idempotency key
]]
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' and redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
end
