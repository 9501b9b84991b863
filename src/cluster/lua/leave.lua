-- leave.lua: graceful stop. Deletes the heartbeat and marks the node dead since long
-- enough that its sessions can be claimed at once (no TTL, no grace period wait).
--
-- KEYS[1]  heartbeat key
-- KEYS[2]  node index
-- ARGV[1]  nodeId
-- ARGV[2]  takeoverGracePeriodMs
-- ARGV[3]  broadcast channel
-- ARGV[4]  key prefix
-- ARGV[5]  optional: the "left" message, sealed by the caller for the broadcast channel
-- Returns the number of sessions the node still owned.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1])
redis.call('ZADD', KEYS[2], now - tonumber(ARGV[2]) - 1, ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[5] or cjson.encode({t = 'left', n = ARGV[1]}))
return redis.call('SCARD', ARGV[4] .. 'node:' .. ARGV[1] .. ':sessions')
