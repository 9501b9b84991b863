-- takeover.lua: move a session from a dead owner to a new owner, atomically.
-- The only way a session changes owner without the old owner's consent.
--
-- KEYS[1]  session record (hash: nodeId, epoch, reassignedAt, reassignedFrom, state)
-- ARGV[1]  key prefix (e.g. "mcp:ha:")
-- ARGV[2]  session id
-- ARGV[3]  expected old owner (nodeId as last read by the caller)
-- ARGV[4]  new owner
-- ARGV[5]  session idle TTL in ms (the record's TTL is refreshed)
-- ARGV[6]  optional: the "lost" message to publish, as the caller sealed it for the old
--          owner's channel (docs/security.md: scripts cannot sign; without it the message
--          is published unsigned)
--
-- Returns one of
--   {"OK", epoch, state, rev}       the new owner now holds the session; epoch was +1
--   {"MISSING"}                     no such session (expired or deleted)
--   {"CONFLICT", nodeId, epoch}     the owner is not ARGV[3] any more (someone else won)
--   {"ALIVE", nodeId, epoch}        the expected owner still has a heartbeat: never robbed
-- Side effects on OK: the session id moves from {prefix}node:{old}:sessions to
-- {prefix}node:{new}:sessions; a {"t":"lost"} message is published on the old owner's
-- channel so that, if it was only stalled, it stops serving the session at once.
-- reassignedAt is Redis TIME in ms, not a caller's clock.
local prefix, sid, old, new, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local rec = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'state', 'rev')
if not rec[1] then
  redis.call('SREM', prefix .. 'node:' .. old .. ':sessions', sid)
  return {'MISSING'}
end
if rec[1] ~= old then
  return {'CONFLICT', rec[1], tonumber(rec[2]) or 0}
end
if old ~= new and redis.call('EXISTS', prefix .. 'heartbeat:' .. old) == 1 then
  return {'ALIVE', old, tonumber(rec[2]) or 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'nodeId', new, 'reassignedAt', now, 'reassignedFrom', old)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SREM', prefix .. 'node:' .. old .. ':sessions', sid)
redis.call('SADD', prefix .. 'node:' .. new .. ':sessions', sid)
if old ~= new then
  redis.call('PUBLISH', prefix .. 'notify:' .. old, ARGV[6] or cjson.encode({t = 'lost', s = sid, by = new}))
end
return {'OK', epoch, rec[3] or '', tonumber(rec[4]) or 0}
