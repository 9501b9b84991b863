-- save.lua: write a session's state, fenced by its epoch.
--
-- KEYS[1]  session record
-- ARGV[1]  key prefix
-- ARGV[2]  session id
-- ARGV[3]  epoch the writer holds
-- ARGV[4]  state (JSON)
-- ARGV[5]  session idle TTL in ms
-- ARGV[6]  owner to create the record with ("" = the record must exist already)
-- ARGV[7]  "0": do not add a created record to the owner's index (serverless mode: no
--          scanner would ever clean it); anything else or absent: add it
-- ARGV[8]  optional, "create": only create a missing record; an existing one is left as it
--          is ({"EXISTS", nodeId, epoch}): a node re-creating its records after a Redis
--          restart must not overwrite a record that survived with changes it never saw
-- ARGV[9]  optional: the record revision the writer's state is based on ("" = no check).
--          The state changes only through this script, which increments `rev`; a write
--          based on another revision (another node wrote since this one read) is refused
--          with {"CHANGED", ...}: the writer merges its own changes into that state and
--          writes again, so no node's change is overwritten by a full state that lacks it.
-- Returns {"OK", epoch, rev} | {"STALE", nodeId, epoch} | {"MISSING"} | {"EXISTS", nodeId, epoch}
--       | {"CHANGED", nodeId, epoch, state, rev}
-- A write with an epoch other than the stored one is rejected: the writer lost the
-- session (or read it before a takeover) and must re-read.
local prefix, sid, epoch, state, ttl, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local rec = redis.call('HMGET', KEYS[1], 'nodeId', 'epoch', 'rev')
if not rec[1] then
  if owner == '' then return {'MISSING'} end
  redis.call('HSET', KEYS[1], 'nodeId', owner, 'epoch', epoch, 'state', state, 'rev', 1)
  redis.call('PEXPIRE', KEYS[1], ttl)
  if ARGV[7] ~= '0' then redis.call('SADD', prefix .. 'node:' .. owner .. ':sessions', sid) end
  return {'OK', tonumber(epoch), 1}
end
if ARGV[8] == 'create' then return {'EXISTS', rec[1], tonumber(rec[2]) or 0} end
if rec[2] ~= epoch then return {'STALE', rec[1], tonumber(rec[2]) or 0} end
if ARGV[9] and ARGV[9] ~= '' and (rec[3] or '0') ~= ARGV[9] then
  return {'CHANGED', rec[1], tonumber(rec[2]) or 0, redis.call('HGET', KEYS[1], 'state') or '', tonumber(rec[3]) or 0}
end
redis.call('HSET', KEYS[1], 'state', state)
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('PEXPIRE', KEYS[1], ttl)
return {'OK', tonumber(epoch), rev}
