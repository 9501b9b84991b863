-- heartbeat.lua: "this node is alive", written every heartbeatIntervalMs.
--
-- KEYS[1]  heartbeat key ({prefix}heartbeat:{nodeId})
-- KEYS[2]  node index (sorted set: member nodeId, score = when the node counts as dead)
-- ARGV[1]  nodeId
-- ARGV[2]  heartbeatTtlMs
-- ARGV[3]  startedAt (ms since the epoch, Redis TIME at start)
-- ARGV[4]  sessionCount
-- ARGV[5]  extra JSON fields (object; may be "{}")
-- Returns {Redis time in ms of this beat, 1 if the heartbeat key existed before, else 0}.
-- 0 after this node was declared dead (liveness.lua, or its key expired): its sessions
-- may have been claimed meanwhile, so it re-reads them before it trusts its lease again.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local existed = redis.call('EXISTS', KEYS[1])
local v = cjson.decode(ARGV[5])
v.nodeId = ARGV[1]
v.startedAt = tonumber(ARGV[3])
v.lastBeat = now
v.sessionCount = tonumber(ARGV[4])
redis.call('SET', KEYS[1], cjson.encode(v), 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
return {now, existed}
