// Failover benchmark: SIGKILL of a session's owner -> first successful request of the same
// session (same Mcp-Session-Id, no re-initialize) on another node. Two settings: the
// defaults (heartbeat 10 s / TTL 30 s / grace 5 s) and sub-second ones (100 / 400 / 200 ms).
// For each trial: start node A, initialize on A, one call on A, SIGKILL A, then call on B
// right away; the time from the kill to B's successful answer is the failover time. A
// second figure is the stream-bound move: GET /mcp (the session's standalone stream) on B
// after the kill, until B answers 200 (it must own the session for that).
//
// Usage: node bench/failover.mjs [--trials N] [--settings default,fast] [--stream]
// Env: FRONTMCP_SERVER_BIN (default build/bin/frontmcp-server).
// Prints a markdown table (p50 / p99 / max in ms) for docs/benchmarks.md.
import { startRedis, startNode, killNode, FAST } from '../tests/e2e/lib/cluster.mjs';
import { httpRequest } from '../tests/e2e/lib/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const TRIALS = Number(opt('--trials', '20'));
const SETTINGS = opt('--settings', 'default,fast').split(',');
const STREAM = args.includes('--stream');
const PROTOCOL = '2025-11-25';
const DEFAULTS = { heartbeatIntervalMs: 10_000, heartbeatTtlMs: 30_000, takeoverGracePeriodMs: 5_000 };

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(base, body, sid) {
  const headers = { ...HEADERS };
  if (sid) {
    headers['mcp-session-id'] = sid;
    headers['mcp-protocol-version'] = PROTOCOL;
  }
  return httpRequest(`${base}/mcp`, { method: 'POST', headers, body: JSON.stringify(body), timeoutMs: 60_000 });
}

async function initialize(base) {
  const r = await post(base, {
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'failover-bench', version: '1' } },
  });
  const sid = r.headers['mcp-session-id'];
  if (r.status !== 200 || !sid) throw new Error(`initialize failed: ${r.status} ${r.body}`);
  await post(base, { jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
  return sid;
}

async function echo(base, sid, id) {
  const r = await post(base, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `t${id}` } } }, sid);
  return r.status === 200 && r.body.includes(`"t${id}"`);
}

function pct(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function openStream(base, sid) {
  // Resolves when the response head arrives (200 = this node owns the session now).
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/mcp`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL },
    }, (res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    req.setTimeout(120_000, () => req.destroy(new Error('GET timed out')));
    req.on('error', (e) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
}

async function run(settingName) {
  const s = settingName === 'fast' ? FAST : DEFAULTS;
  const redis = await startRedis();
  const nodeOpts = { ...s, logLevel: 'warn' };
  const b = await startNode(redis, { nodeId: 'bench-b', ...nodeOpts });
  const request = [];
  const stream = [];
  try {
    for (let t = 0; t < TRIALS; ++t) {
      const a = await startNode(redis, { nodeId: `bench-a${t}`, ...nodeOpts });
      const sid = await initialize(a.base);
      if (!(await echo(a.base, sid, 1))) throw new Error('call on the owner failed');
      const killed = performance.now();
      await killNode(a, 'SIGKILL');
      let ok = false;
      for (let attempt = 0; attempt < 100 && !ok; ++attempt) ok = await echo(b.base, sid, 2 + attempt);
      if (!ok) throw new Error(`trial ${t}: no successful request on B`);
      request.push(performance.now() - killed);
      if (STREAM) {
        const status = await openStream(b.base, sid);
        if (status !== 200) throw new Error(`trial ${t}: GET on B answered ${status}`);
        stream.push(performance.now() - killed);
      }
    }
  } finally {
    await killNode(b, 'SIGKILL');
    await redis.close();
  }
  return { request, stream, s };
}

const rows = [];
for (const name of SETTINGS) {
  const r = await run(name);
  for (const [kind, v] of [['request', r.request], ['GET stream', r.stream]]) {
    if (!v.length) continue;
    const sorted = [...v].sort((x, y) => x - y);
    rows.push(`| ${name} (${r.s.heartbeatIntervalMs}/${r.s.heartbeatTtlMs}/${r.s.takeoverGracePeriodMs} ms) | ${kind} | ${v.length} | ${pct(sorted, 0.5).toFixed(1)} | ${pct(sorted, 0.99).toFixed(1)} | ${sorted[sorted.length - 1].toFixed(1)} |`);
  }
}
console.log('| settings (interval/TTL/grace) | first success after SIGKILL | trials | p50 ms | p99 ms | max ms |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
