-- orphans.lua: the nodes whose sessions may be claimed now, for the orphan scanner.
-- Cost: O(log N + dead nodes) on the node index; never KEYS or SCAN.
--
-- KEYS[1]  node index (sorted set: nodeId -> when it counts as dead, ms)
-- ARGV[1]  key prefix
-- ARGV[2]  takeoverGracePeriodMs
-- ARGV[3]  at most this many nodes
-- ARGV[4]  sessions per node to return
-- Returns a flat array: nodeId, {session ids...}, nodeId, {...}
-- A dead node without sessions is removed from the index. A node whose heartbeat is
-- present again (restart with the same id) is skipped.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, n in ipairs(dead) do
  if redis.call('EXISTS', ARGV[1] .. 'heartbeat:' .. n) == 0 then
    local set = ARGV[1] .. 'node:' .. n .. ':sessions'
    local ids = redis.call('SRANDMEMBER', set, tonumber(ARGV[4]))
    if #ids == 0 then
      redis.call('ZREM', KEYS[1], n)
    else
      table.insert(out, n)
      table.insert(out, ids)
    end
  end
end
return out
