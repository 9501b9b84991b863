-- remove.lua: the client ended the session (DELETE), on whichever node received it.
--
-- KEYS[1]  session record
-- KEYS[2]  the session's standalone stream event log
-- ARGV[1]  key prefix
-- ARGV[2]  session id
-- Returns the owner's nodeId if the session existed, else 0. The caller tells the owner on
-- its channel ({"t":"drop"}, signed: a script cannot sign) so it closes the session's
-- streams; a lost message is caught by the owner's next revalidation.
local owner = redis.call('HGET', KEYS[1], 'nodeId')
if not owner then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', ARGV[1] .. 'node:' .. owner .. ':sessions', ARGV[2])
return owner
