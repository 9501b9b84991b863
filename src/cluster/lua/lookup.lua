-- lookup.lua: read a session for a request on any node, in one round trip.
--
-- KEYS[1]  session record
-- ARGV[1]  key prefix
-- ARGV[2]  the calling node
-- ARGV[3]  session idle TTL in ms (sliding: refreshed on every lookup)
-- Returns {"MISSING"} | {"FOUND", nodeId, epoch, state, alive, rev}
--   alive: 1 when the owner is the caller or has a heartbeat, else 0.
--   rev: the state's revision (save.lua), what a write based on this read names.
local rec = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'state', 'rev')
if not rec[1] then return {'MISSING'} end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local alive = 0
if rec[1] == ARGV[2] or redis.call('EXISTS', ARGV[1] .. 'heartbeat:' .. rec[1]) == 1 then alive = 1 end
return {'FOUND', rec[1], tonumber(rec[2]) or 0, rec[3] or '', alive, tonumber(rec[4]) or 0}
