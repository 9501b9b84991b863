-- remove.lua: the client ended the session (DELETE), on whichever node received it.
--
-- KEYS[1]  session record
-- KEYS[2]  the session's standalone stream event log
-- ARGV[1]  key prefix
-- ARGV[2]  session id
-- Returns 1 if the session existed, else 0. The owner is told on its channel
-- ({"t":"drop"}) so it closes the session's streams.
local owner = redis.call('HGET', KEYS[1], 'nodeId')
if not owner then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', ARGV[1] .. 'node:' .. owner .. ':sessions', ARGV[2])
redis.call('PUBLISH', ARGV[1] .. 'notify:' .. owner, cjson.encode({t = 'drop', s = ARGV[2]}))
return 1
