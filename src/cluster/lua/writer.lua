-- writer.lua: does the process that writes a stream still live? A node that replays
-- another node's stream from the shared event log follows it only while it does.
--
-- KEYS[1]  writer record ({prefix}writer:{sessionId}/{streamIndex}: "<nodeId> <boot>")
-- ARGV[1]  key prefix
-- Returns 1: its heartbeat exists and names the same process (boot id);
--         0: no heartbeat, or the node restarted (another boot id): nobody writes it;
--        -1: no writer record (unknown).
local w = redis.call('GET', KEYS[1])
if not w then return -1 end
local sp = string.find(w, ' ', 1, true)
if not sp then return -1 end
local hb = redis.call('GET', ARGV[1] .. 'heartbeat:' .. string.sub(w, 1, sp - 1))
if not hb then return 0 end
local ok, v = pcall(cjson.decode, hb)
if not ok or type(v) ~= 'table' or v.boot ~= string.sub(w, sp + 1) then return 0 end
return 1
