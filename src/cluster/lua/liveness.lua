-- liveness.lua: a node whose process died is declared dead without waiting for its
-- heartbeat key to expire. When a process dies its kernel closes its connections, so
-- Redis drops its relay subscription ({prefix}notify:{nodeId}); a stalled process
-- (SIGSTOP, a long GC-like pause) keeps its connections and stays alive until its
-- heartbeat expires. Run by every node every probe interval; O(live nodes).
--
-- A node is declared dead when its subscription was missing at two probes at least
-- ARGV[2] ms apart and its heartbeat did not change in between (a heartbeat written in
-- between means the node is running and re-arms its relay lease only after that write;
-- see docs/ha.md "Liveness"). Declaring it dead deletes its heartbeat and records it in
-- the node index as dead since the first probe that missed it, so the orphan scanner
-- claims its sessions takeoverGracePeriodMs after that, and the request path at once.
--
-- KEYS[1]  node index (sorted set: nodeId -> when it counts as dead, ms)
-- KEYS[2]  suspects (hash: nodeId -> "<first missed, ms> <heartbeat value then>")
-- ARGV[1]  key prefix
-- ARGV[2]  confirmation time in ms (the relay lease)
-- ARGV[3]  at most this many nodes per call
-- Returns the nodes declared dead by this call.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, confirm = ARGV[1], tonumber(ARGV[2])
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, tonumber(ARGV[3]))
local out, seen = {}, {}
for _, n in ipairs(live) do
  seen[n] = true
  local hbkey = prefix .. 'heartbeat:' .. n
  local hb = redis.call('GET', hbkey)
  local subs = redis.call('PUBSUB', 'NUMSUB', prefix .. 'notify:' .. n)
  if not hb or tonumber(subs[2]) > 0 then
    redis.call('HDEL', KEYS[2], n)
  else
    local s = redis.call('HGET', KEYS[2], n)
    local since, was
    if s then
      local sp = string.find(s, ' ', 1, true)
      if sp then
        since = tonumber(string.sub(s, 1, sp - 1))
        was = string.sub(s, sp + 1)
      end
    end
    if not since or was ~= hb then
      redis.call('HSET', KEYS[2], n, now .. ' ' .. hb)
    elseif now - since >= confirm then
      redis.call('DEL', hbkey)
      redis.call('ZADD', KEYS[1], since, n)
      redis.call('HDEL', KEYS[2], n)
      table.insert(out, n)
    end
  end
end
for _, n in ipairs(redis.call('HKEYS', KEYS[2])) do
  if not seen[n] then redis.call('HDEL', KEYS[2], n) end
end
return out
