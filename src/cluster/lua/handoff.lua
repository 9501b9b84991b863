-- handoff.lua: the live owner gives a session to another node (graceful: a client's
-- GET stream arrived there, or the owner is shutting down). Same effects as takeover,
-- but the caller must be the current owner, so no heartbeat check.
--
-- KEYS[1]  session record
-- ARGV[1]  key prefix
-- ARGV[2]  session id
-- ARGV[3]  current owner (the caller)
-- ARGV[4]  new owner
-- ARGV[5]  session idle TTL in ms
-- ARGV[6]  optional: the "owned" message, sealed by the caller for the new owner's channel
-- Returns {"OK", epoch} | {"MISSING"} | {"CONFLICT", nodeId, epoch}
-- On OK a {"t":"owned"} message is published on the new owner's channel.
local prefix, sid, old, new, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rec = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch')
if not rec[1] then return {'MISSING'} end
if rec[1] ~= old then return {'CONFLICT', rec[1], tonumber(rec[2]) or 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'nodeId', new, 'reassignedAt', now, 'reassignedFrom', old)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SREM', prefix .. 'node:' .. old .. ':sessions', sid)
redis.call('SADD', prefix .. 'node:' .. new .. ':sessions', sid)
redis.call('PUBLISH', prefix .. 'notify:' .. new, ARGV[6] or cjson.encode({t = 'owned', s = sid, from = old}))
return {'OK', epoch}
