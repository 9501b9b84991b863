// The production surface (issue 5) against the real frontmcp-server binary: every probe
// state, the security rejections (status and body), the runtime modes, config errors, the
// Prometheus metrics (scraped and parsed strictly) and JSON-lines logs. Distributed and
// serverless cases run a private redis-server on a random loopback port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ACCEPT_BOTH,
  httpRequest,
  initSession,
  initializeRequest,
  jsonRpcErrorCode,
  mcpPost,
  pollUntil,
  randomText,
  responseTo,
  rpc,
  serverBinary,
  startServer,
  withTimeout,
} from './lib/harness.mjs';
import { FAST, freePort, killNode, redisCli, startCluster, startNode, startRedis } from './lib/cluster.mjs';
import { parsePrometheus } from './lib/prometheus.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs the server to completion (it must exit by itself within `ms`): { code, signal, stderr, stdout }. */
function runToExit(args, { env, ms = 10_000 } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const proc = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      let stderr = '';
      let stdout = '';
      proc.stderr.on('data', (c) => (stderr += c));
      proc.stdout.on('data', (c) => (stdout += c));
      proc.once('error', reject);
      proc.once('exit', (code, signal) => resolve({ code, signal, stderr, stdout }));
      setTimeout(() => proc.kill('SIGKILL'), ms).unref();
    }),
    ms + 2_000,
    `frontmcp-server ${args.join(' ')} to exit`,
  );
}

function tmpFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-e2e-prod-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

async function scrape(base, pathName = '/metrics') {
  const r = await httpRequest(`${base}${pathName}`);
  assert.equal(r.status, 200, `GET ${pathName}: ${r.body}`);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(r.body);
}

async function readyz(base, p = '/readyz') {
  const r = await httpRequest(`${base}${p}`, { timeoutMs: 3_000 });
  return { status: r.status, body: JSON.parse(r.body) };
}

async function echo(session, text = randomText('echo')) {
  const reply = await session.request('tools/call', { name: 'echo', arguments: { text } });
  assert.deepEqual(reply.result?.content, [{ type: 'text', text }], JSON.stringify(reply));
  return reply;
}

// ---------------------------------------------------------------------------------------------

describe('health and readiness', () => {
  it('standalone: /healthz 200, /readyz 200 naming every probe', async () => {
    const s = await startServer(['--node-id', 'probe-node']);
    try {
      const h = await httpRequest(`${s.base}/healthz`);
      assert.equal(h.status, 200);
      assert.deepEqual(JSON.parse(h.body), { status: 'ok' });
      const r = await readyz(s.base);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, {
        status: 'ready',
        node: 'probe-node',
        checks: { startup: 'ok', shutdown: 'ok', sessionStore: 'ok' },
      });
    } finally {
      await s.stop();
    }
  });

  it('HEAD /healthz: the fields of a GET without the body; HTTP/1.0 gets Connection: keep-alive', async () => {
    const s = await startServer(['--log-level', 'error']);
    try {
      // One connection, three requests written at once: a body sent for the HEAD would be
      // read as the start of the next response.
      const socket = net.connect(s.port, '127.0.0.1');
      socket.on('error', () => {});
      const got = new Promise((resolve) => {
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
      });
      const host = `Host: 127.0.0.1:${s.port}\r\n`;
      socket.write(
        `HEAD /healthz HTTP/1.1\r\n${host}\r\n` +
          `GET /healthz HTTP/1.0\r\n${host}Connection: keep-alive\r\n\r\n` +
          `GET /healthz HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
      );
      const text = await withTimeout(got, 5000, 'three responses and the close');
      const parts = text.split('HTTP/1.');
      assert.equal(parts.length, 4, text);
      const [head, get10, getClose] = parts.slice(1);
      assert.match(head, /^1 200 OK\r\n/);
      assert.match(head, /\r\nContent-Length: 15\r\n/);
      assert.ok(head.endsWith('\r\n\r\n'), `HEAD answered with a body: ${JSON.stringify(head)}`);
      assert.match(get10, /^0 200 OK\r\n/);
      assert.match(get10, /\r\nConnection: keep-alive\r\n/);
      assert.ok(get10.endsWith('\r\n\r\n{"status":"ok"}'), JSON.stringify(get10));
      assert.match(getClose, /\r\nConnection: close\r\n/);
      assert.ok(getClose.endsWith('\r\n\r\n{"status":"ok"}'), JSON.stringify(getClose));
    } finally {
      await s.stop();
    }
  });

  it('paths are configurable (flags), and --metrics-path "" turns /metrics off', async () => {
    const s = await startServer(['--healthz-path', '/live', '--readyz-path', '/ready', '--metrics-path', '']);
    try {
      assert.equal((await httpRequest(`${s.base}/live`)).status, 200);
      assert.equal((await readyz(s.base, '/ready')).status, 200);
      for (const p of ['/healthz', '/readyz', '/metrics']) {
        const r = await httpRequest(`${s.base}${p}`);
        assert.equal(r.status, 404, `${p} is not served any more`);
      }
    } finally {
      await s.stop();
    }
  });

  it('SIGTERM: /readyz 503 "shutdown" while requests are still served (--shutdown-delay-ms), then exit 0', async () => {
    const s = await startServer(['--shutdown-delay-ms', '2000']);
    const session = await initSession(s.url);
    s.proc.kill('SIGTERM');
    const r = await pollUntil(() => readyz(s.base), (x) => x.status === 503, 1_500, '/readyz to turn 503 after SIGTERM');
    assert.equal(r.body.status, 'not ready');
    assert.equal(r.body.failing, 'shutdown');
    assert.equal(r.body.reason, 'draining');
    assert.equal(r.body.checks.shutdown, 'draining');
    // Still serving during the delay: a load balancer that has not noticed yet loses nothing.
    await echo(session);
    assert.equal((await httpRequest(`${s.base}/healthz`)).status, 200, 'liveness stays 200 while draining');
    const exit = await withTimeout(s.exited, 10_000, 'exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it('distributed: 503 "redis" while Redis is unreachable, 200 with redis/relay/heartbeat once it is there', async () => {
    const port = await freePort();
    const node = await startNode({ url: `redis://127.0.0.1:${port}` }, { nodeId: 'ready-node', startTimeoutMs: 15_000 });
    let redis;
    try {
      const down = await readyz(node.base);
      assert.equal(down.status, 503);
      assert.equal(down.body.failing, 'redis');
      assert.match(down.body.reason, /^redis unreachable/);
      assert.equal(down.body.checks.startup, 'ok');
      redis = await startRedis({ port });
      const up = await pollUntil(() => readyz(node.base), (x) => x.status === 200, 10_000, '/readyz 200 once Redis runs');
      assert.deepEqual(up.body.checks, { startup: 'ok', shutdown: 'ok', redis: 'ok', relay: 'ok', heartbeat: 'ok' });
    } finally {
      await killNode(node);
      await redis?.close();
    }
  });

  it('distributed without a relay secret: ready, warned at start and in /readyz; with one: no warning', async () => {
    const redis = await startRedis();
    const secret = 'relay-e2e-'.padEnd(40, 'q');
    let node;
    try {
      node = await startNode(redis, { nodeId: 'unsigned-node' });
      const r = await pollUntil(() => readyz(node.base), (x) => x.status === 200, 10_000, '/readyz 200');
      assert.deepEqual(r.body.warnings, ['relay unsigned: set FRONTMCP_RELAY_SECRET (or relaySecret / --relay-secret-file)']);
      assert.equal(node.logLines(/relay unsigned: no relay secret is set/).length, 1, node.log());
      await killNode(node);
      for (const [how, opts] of [
        ['--relay-secret-file', { args: ['--relay-secret-file', tmpFile('relay-secret', `${secret}\n`)] }],
        ['FRONTMCP_RELAY_SECRET', { env: { FRONTMCP_RELAY_SECRET: secret } }],
      ]) {
        node = await startNode(redis, { nodeId: 'signed-node', ...opts });
        const s = await pollUntil(() => readyz(node.base), (x) => x.status === 200, 10_000, `/readyz 200 (${how})`);
        assert.equal(s.body.warnings, undefined, `${how}: ${JSON.stringify(s.body)}`);
        assert.deepEqual(node.logLines(/relay unsigned/), [], how);
        assert.ok(!node.log().includes(secret), `${how}: the secret is never logged`);
        await killNode(node);
      }
      node = undefined;
    } finally {
      if (node) await killNode(node);
      await redis.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('transport security', () => {
  it('CORS: preflight and responses carry the allowed origin and expose the MCP headers; other origins get none', async () => {
    const app = 'http://app.example.com';
    const s = await startServer(['--cors-origin', app, '--allowed-origin', app]);
    try {
      const pre = await httpRequest(s.url, {
        method: 'OPTIONS',
        headers: { Origin: app, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, mcp-session-id' },
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], app);
      assert.match(pre.headers['access-control-allow-methods'], /\bPOST\b/);
      assert.match(pre.headers['access-control-allow-methods'], /\bDELETE\b/);
      for (const h of ['Mcp-Session-Id', 'MCP-Protocol-Version', 'Authorization', 'Last-Event-ID']) {
        assert.match(pre.headers['access-control-allow-headers'], new RegExp(`\\b${h}\\b`, 'i'));
      }
      assert.match(pre.headers.vary, /Origin/);

      const init = await httpRequest(s.url, {
        method: 'POST',
        headers: { Origin: app, 'Content-Type': 'application/json', Accept: ACCEPT_BOTH },
        body: JSON.stringify(initializeRequest()),
      });
      assert.equal(init.status, 200);
      assert.equal(init.headers['access-control-allow-origin'], app);
      const exposed = init.headers['access-control-expose-headers'];
      assert.match(exposed, /\bMcp-Session-Id\b/);
      assert.match(exposed, /\bX-FrontMCP-Machine-Id\b/);

      // A loopback origin passes DNS-rebinding protection but is not a CORS origin.
      const other = await httpRequest(s.url, {
        method: 'POST',
        headers: { Origin: 'http://localhost:9', 'Content-Type': 'application/json', Accept: ACCEPT_BOTH },
        body: JSON.stringify(initializeRequest()),
      });
      assert.equal(other.status, 200);
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await s.stop();
    }
  });

  it('bound to 0.0.0.0, DNS-rebinding protection is off unless turned on explicitly (then 403)', async () => {
    const open = await startServer(['--host', '0.0.0.0']);
    try {
      const r = await httpRequest(open.url, {
        method: 'POST',
        headers: { Host: 'mcp.example.com', 'Content-Type': 'application/json', Accept: ACCEPT_BOTH },
        body: JSON.stringify(initializeRequest()),
      });
      assert.equal(r.status, 200, r.body);
    } finally {
      await open.stop();
    }
    const strict = await startServer(['--host', '0.0.0.0', '--dns-rebinding-protection', 'true', '--allowed-host', 'mcp.example.com']);
    try {
      const ok = await httpRequest(strict.url, {
        method: 'POST',
        headers: { Host: 'mcp.example.com', 'Content-Type': 'application/json', Accept: ACCEPT_BOTH },
        body: JSON.stringify(initializeRequest()),
      });
      assert.equal(ok.status, 200, ok.body);
      const bad = await httpRequest(strict.url, {
        method: 'POST',
        headers: { Host: 'evil.example.com', 'Content-Type': 'application/json', Accept: ACCEPT_BOTH },
        body: JSON.stringify(initializeRequest()),
      });
      assert.equal(bad.status, 403);
      assert.equal(jsonRpcErrorCode(bad.body), -32000);
      assert.match(JSON.parse(bad.body).error.message, /Host not allowed/);
    } finally {
      await strict.stop();
    }
  });

  describe('bearer token (the authorization hook, --auth-token-file)', () => {
    let s;
    const token = `tok-${Math.random().toString(36).slice(2)}`;
    before(async () => {
      s = await startServer(['--auth-token-file', tmpFile('token', `${token}\n`)]);
    });
    after(async () => {
      await s?.stop();
    });

    const post = (headers) =>
      httpRequest(s.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, ...headers },
        body: JSON.stringify(initializeRequest()),
      });

    it('no token → 401, WWW-Authenticate: Bearer realm, JSON-RPC error body', async () => {
      const r = await post({});
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="frontmcp"');
      assert.equal(jsonRpcErrorCode(r.body), -32000);
      assert.match(JSON.parse(r.body).error.message, /bearer token is required/);
    });
    it('wrong token → 401 with error="invalid_token"; other schemes are not tokens', async () => {
      const r = await post({ Authorization: `Bearer ${token}x` });
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="frontmcp", error="invalid_token"');
      const basic = await post({ Authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}` });
      assert.equal(basic.status, 401);
    });
    it('the legacy endpoints are checked too; the probes and /metrics are not', async () => {
      assert.equal((await httpRequest(`${s.base}/sse`, { headers: { Accept: 'text/event-stream' } })).status, 401);
      const msg = await httpRequest(`${s.base}/message?sessionId=abc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(rpc('ping')),
      });
      assert.equal(msg.status, 401);
      for (const p of ['/healthz', '/readyz', '/metrics']) assert.equal((await httpRequest(`${s.base}${p}`)).status, 200, p);
    });
    it('the official SDK client with the token works end to end', async () => {
      const transport = new StreamableHTTPClientTransport(new URL(s.url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      });
      const client = new Client({ name: 'e2e-auth', version: '0.0.0' });
      await client.connect(transport);
      try {
        const text = randomText('auth');
        const res = await client.callTool({ name: 'echo', arguments: { text } });
        assert.deepEqual(res.content, [{ type: 'text', text }]);
      } finally {
        await client.close();
      }
      const m = await scrape(s.base);
      assert.ok(m.value('frontmcp_http_responses_total', { code: '401' }) >= 4, 'the 401s are counted');
    });
  });

  it('FRONTMCP_AUTH_TOKEN sets the token from the environment', async () => {
    const s = await startServer([], { env: { FRONTMCP_AUTH_TOKEN: 'env-token' } });
    try {
      const headers = { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH };
      const body = JSON.stringify(initializeRequest());
      assert.equal((await httpRequest(s.url, { method: 'POST', headers, body })).status, 401);
      const ok = await httpRequest(s.url, { method: 'POST', headers: { ...headers, Authorization: 'bearer env-token' }, body });
      assert.equal(ok.status, 200);
    } finally {
      await s.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('runtime modes', () => {
  it('serverless without Redis: JSON responses only, no GET stream (405), no legacy SSE (404), random node id', async () => {
    const s = await startServer(['--mode', 'serverless', '--node-id', 'fixed-id']);
    try {
      const session = await initSession(s.url);
      // A tool that reports progress would answer with an SSE stream in the other modes.
      const msg = rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p1' } });
      const r = await session.post(msg);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.ok(responseTo(r, msg.id)?.result, r.body);

      const get = await httpRequest(s.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId } });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST, DELETE');
      assert.equal((await httpRequest(`${s.base}/sse`, { headers: { Accept: 'text/event-stream' } })).status, 404);

      const who = await session.request('tools/call', { name: 'whoami', arguments: {} });
      const nodeId = who.result.structuredContent.nodeId;
      assert.match(nodeId, /^node-[0-9a-f]{12}$/, 'serverless instances get a random id');
      const sampling = await session.request('tools/call', { name: 'test_sampling', arguments: { prompt: 'hi' } });
      assert.match(JSON.stringify(sampling.result), /not available in serverless mode/, 'fails at once, no stream to wait on');
    } finally {
      await s.stop();
    }
  });

  describe('serverless with Redis', () => {
    let redis;
    let a;
    let b;
    before(async () => {
      redis = await startRedis();
      [a, b] = await Promise.all(
        [1, 2].map(() => startServer(['--mode', 'serverless', '--redis', redis.url])),
      );
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await redis?.close();
    });

    it('any instance serves any session (the official SDK client alternating between two), state shared', async () => {
      let turn = 0;
      const alternating = (input, init) => {
        const target = new URL(String(input instanceof Request ? input.url : input));
        target.port = String([a.port, b.port][turn++ % 2]);
        return fetch(target, init);
      };
      const client = new Client({ name: 'e2e-serverless', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(a.url), { fetch: alternating }));
      try {
        const nodes = new Set();
        for (let i = 0; i < 6; i++) {
          const who = await client.callTool({ name: 'whoami', arguments: {} });
          nodes.add(who.structuredContent.nodeId);
        }
        assert.equal(nodes.size, 2, `both instances served the session: ${[...nodes]}`);
        // State written on one instance (log level) is read by the other.
        await client.setLoggingLevel('error');
      } finally {
        await client.close();
      }
    });

    it('DELETE on one instance ends the session on the other; Redis holds session records only', async () => {
      const session = await initSession(a.url);
      await echo({ request: (m, p) => initSessionRequest(b.url, session, m, p) });
      const keys = (await redisCli(redis.port, ['KEYS', '*'])).split('\n').filter(Boolean);
      assert.ok(keys.length > 0 && keys.every((k) => k.startsWith('mcp:ha:session:')), `no heartbeat, no node index: ${keys}`);
      const del = await httpRequest(b.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session.sessionId } });
      assert.equal(del.status, 200);
      const after = await session.post(rpc('ping'));
      assert.equal(after.status, 404);
      assert.equal(jsonRpcErrorCode(after.body), -32001);
    });

    it('/readyz checks Redis only (no relay, no heartbeat in serverless mode)', async () => {
      const r = await readyz(a.base);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.checks, { startup: 'ok', shutdown: 'ok', redis: 'ok' });
      const m = await scrape(a.base);
      assert.equal(m.value('frontmcp_heartbeat_age_seconds'), undefined);
      assert.equal(m.families.get('frontmcp_build_info').samples[0].labels.mode, 'serverless');
    });
  });
});

/** session.request() against another URL with the same session (a second instance). */
async function initSessionRequest(url, session, method, params) {
  const msg = rpc(method, params);
  const r = await mcpPost(url, msg, { sessionId: session.sessionId, protocolVersion: session.protocolVersion });
  assert.equal(r.status, 200, r.body);
  return responseTo(r, msg.id);
}

// ---------------------------------------------------------------------------------------------

describe('configuration errors stop the server at start with exit 2, naming the field', () => {
  const cases = [
    ['an unknown key', 'prot = 3000\n', /unknown key 'prot'/],
    ['a string for a number', 'port = "3000"\n', /config port: expected an integer/],
    ['a non-positive number', 'maxBodyBytes = 0\n', /config maxBodyBytes: must be a positive integer/],
    ['an unknown mode', 'mode = "cluster"\n', /config mode: 'cluster' is not one of standalone, distributed, serverless/],
    ['a path without /', 'healthzPath = "healthz"\n', /config healthzPath: 'healthz' is not a path/],
    ['a string for a boolean', 'dnsRebindingProtection = "yes"\n', /config dnsRebindingProtection: expected true or false/],
    ['an unknown log format', 'logFormat = "xml"\n', /config logFormat: 'xml' is not one of text, json/],
    ['a negative delay', 'shutdownDelayMs = -1\n', /config shutdownDelayMs: must not be negative/],
    ['TOML that does not parse', 'port = \n', /config file .* at line 1/],
    ['a relay secret of 15 bytes', 'relaySecret = "fifteen-bytes.."\n', /HaConfigurationError: the relay secret .* is 15 bytes long; it needs at least 16/],
    [
      'a previous relay secret without a current one',
      'relayPreviousSecret = "0123456789abcdef0123"\n',
      /HaConfigurationError: a previous relay secret is set without a current one/,
    ],
    ['a relay secret that is not a string', 'relaySecret = 1234567890123456789\n', /config relaySecret: expected a string/],
    ['a negative rate', 'toolCallsPerSecond = -1\n', /config toolCallsPerSecond: must be a number >= 0/],
    ['a fractional burst', 'requestBurst = 2.5\n', /config requestBurst: expected an integer/],
    [
      'a per-tool rate limit without perSecond',
      '[toolRateLimits]\nforecast = { burst = 2 }\n',
      /config toolRateLimits.forecast: perSecond is missing/,
    ],
  ];
  for (const [what, toml, message] of cases) {
    it(`${what}`, async () => {
      const r = await runToExit(['--config', tmpFile('bad.toml', toml)]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    });
  }
  it('bad flag values too (--log-format, --dns-rebinding-protection, --readyz-path, an unreadable token file)', async () => {
    for (const [args, message] of [
      [['--log-format', 'xml'], /--log-format: 'xml' is not one of text, json/],
      [['--dns-rebinding-protection', 'maybe'], /--dns-rebinding-protection: 'maybe' is not one of true, false/],
      [['--readyz-path', 'ready z'], /--readyz-path: 'ready z' is not a path/],
      [['--auth-token-file', '/nonexistent/token'], /--auth-token-file: cannot read a token/],
      [['--relay-secret-file', '/nonexistent/relay-secret'], /--relay-secret-file: cannot read '\/nonexistent\/relay-secret'/],
      [['--relay-previous-secret-file', '/nonexistent/old'], /--relay-previous-secret-file: cannot read/],
      [['--relay-secret-file', tmpFile('empty-secret', '\n')], /--relay-secret-file: '.*' is empty/],
    ]) {
      const r = await runToExit(args);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
  it('a short relay secret from the environment or a file: exit 2, the secret not in the message', async () => {
    const short = 'short-secret';
    for (const [args, env] of [
      [[], { FRONTMCP_RELAY_SECRET: short }],
      [['--relay-secret-file', tmpFile('short-secret', `${short}\n`)], {}],
      [[], { FRONTMCP_RELAY_SECRET: 'a'.repeat(32), FRONTMCP_RELAY_SECRET_PREVIOUS: short }],
    ]) {
      const r = await runToExit(args, { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /HaConfigurationError: the (previous )?relay secret .* is 12 bytes long/);
      assert.ok(!r.stderr.includes(short), r.stderr);
    }
  });
  it('the annotated example file starts as it is; env beats the file and flags beat env', async () => {
    const example = path.join(ROOT, 'examples', 'frontmcp.toml');
    const s = await startServer(['--config', example], { env: { FRONTMCP_DEPLOYMENT_MODE: 'serverless' } });
    try {
      const get = await httpRequest(s.url, { headers: { Accept: 'text/event-stream' } });
      assert.equal(get.status, 405, 'serverless from the environment');
    } finally {
      await s.stop();
    }
    const s2 = await startServer(['--config', example, '--mode', 'standalone'], { env: { FRONTMCP_DEPLOYMENT_MODE: 'serverless' } });
    try {
      const m = await scrape(s2.base);
      assert.equal(m.families.get('frontmcp_build_info').samples[0].labels.mode, 'standalone', 'the flag wins');
    } finally {
      await s2.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('rate limits (the flags; behaviour in detail: tests/transport/rate_limit_test.cpp)', () => {
  it('--tool-calls-per-second / --tool-call-burst: a call over the limit is a tool result with isError', async () => {
    const s = await startServer(['--tool-calls-per-second', '0.01', '--tool-call-burst', '1']);
    try {
      const session = await initSession(s.url);
      await echo(session);
      const refused = await session.request('tools/call', { name: 'echo', arguments: { text: 'again' } });
      assert.equal(refused.error, undefined, JSON.stringify(refused));
      assert.equal(refused.result.isError, true, JSON.stringify(refused));
      assert.match(
        refused.result.content[0].text,
        /^rate limit exceeded for tool "echo": at most 0\.01 calls per second \(burst 1\); retry after \d+\.\d s$/,
      );
      const m = await scrape(s.base);
      assert.equal(m.value('frontmcp_rate_limited_total', { limit: 'tool' }), 1);
      assert.equal(m.value('frontmcp_rate_limited_total', { limit: 'request' }), 0);
    } finally {
      await s.stop();
    }
  });
  it('toolRateLimits in the config file replaces the limit of one tool', async () => {
    const toml = 'toolCallsPerSecond = 0\n[toolRateLimits]\necho = { perSecond = 0.01, burst = 1 }\n';
    const s = await startServer(['--config', tmpFile('tool-limits.toml', toml)]);
    try {
      const session = await initSession(s.url);
      await echo(session);
      const refused = await session.request('tools/call', { name: 'echo', arguments: { text: 'again' } });
      assert.equal(refused.result?.isError, true, JSON.stringify(refused));
      assert.match(refused.result.content[0].text, /at most 0\.01 calls per second \(burst 1\)/);
    } finally {
      await s.stop();
    }
  });
  it('--requests-per-second / --request-burst: 429 with Retry-After and a JSON-RPC error', async () => {
    const s = await startServer(['--requests-per-second', '0.01', '--request-burst', '3']);
    try {
      const session = await initSession(s.url); // initialize and notifications/initialized: 2
      await echo(session); // 3
      const r = await session.post(rpc('ping'));
      assert.equal(r.status, 429, r.body);
      const retryAfter = Number(r.headers['retry-after']);
      assert.ok(retryAfter >= 99 && retryAfter <= 100, r.headers['retry-after']);
      assert.equal(jsonRpcErrorCode(r.body), -32000);
      assert.match(JSON.parse(r.body).error.message, /at most 0\.01 requests per second \(burst 3\)/);
      const m = await scrape(s.base); // /metrics is not counted
      assert.equal(m.value('frontmcp_rate_limited_total', { limit: 'request' }), 1);
      assert.equal(m.value('frontmcp_http_responses_total', { code: '429' }), 1);
    } finally {
      await s.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('Prometheus /metrics', () => {
  it('standalone: requests by method and outcome, latency histograms, HTTP codes, sessions, process', async () => {
    const s = await startServer([]);
    try {
      const session = await initSession(s.url);
      const before = await scrape(s.base);
      for (let i = 0; i < 3; i++) await echo(session);
      const unknownTool = await session.request('tools/call', { name: 'no_such_tool', arguments: {} });
      assert.ok(unknownTool.error, 'an unknown tool is a JSON-RPC error');
      const bogus = await session.request('bogus/method', {});
      assert.equal(bogus.error?.code, -32601);
      const gone = await mcpPost(s.url, rpc('ping'), { sessionId: 'f'.repeat(32), protocolVersion: session.protocolVersion });
      assert.equal(gone.status, 404);
      const m = await scrape(s.base);

      const delta = (name, labels) => (m.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
      assert.equal(delta('frontmcp_requests_total', { method: 'tools/call', status: 'ok' }), 3);
      assert.equal(delta('frontmcp_requests_total', { method: 'tools/call', status: 'error' }), 1);
      assert.equal(delta('frontmcp_requests_total', { method: 'other', status: 'error' }), 1);
      assert.equal(delta('frontmcp_request_duration_seconds_count', { method: 'tools/call' }), 4);
      assert.ok(m.value('frontmcp_request_duration_seconds_sum', { method: 'tools/call' }) > 0);
      assert.equal(m.value('frontmcp_requests_total', { method: 'initialize', status: 'ok' }), 1);
      assert.equal(delta('frontmcp_http_responses_total', { code: '404' }), 1);
      // The 5 POSTs answered 200, plus the first scrape's own response.
      assert.equal(delta('frontmcp_http_responses_total', { code: '200' }), 6);
      assert.equal(m.value('frontmcp_sessions', { state: 'owned' }), 1);
      assert.equal(m.value('frontmcp_sessions', { state: 'replica' }), 0);
      assert.equal(m.value('frontmcp_up'), 1);
      assert.equal(m.value('frontmcp_ready'), 1);
      assert.ok(m.value('frontmcp_connections_open') >= 1);
      assert.ok(m.value('process_resident_memory_bytes') > 1_000_000);
      assert.ok(m.value('process_open_fds') > 3);
      assert.equal(m.families.get('frontmcp_requests_total').type, 'counter');
      assert.equal(m.families.get('frontmcp_request_duration_seconds').type, 'histogram');
      // No Redis, no heartbeat.
      assert.equal(m.value('frontmcp_heartbeat_age_seconds'), undefined);
    } finally {
      await s.stop();
    }
  });

  describe('distributed', () => {
    let cluster;
    before(async () => {
      cluster = await startCluster(2, { nodeIds: ['metrics-1', 'metrics-2'], logLevel: 'debug' });
    });
    after(async () => {
      await cluster?.close();
    });

    it('relay published and delivered, Redis latency, heartbeat age; a takeover is counted on the node that made it', async () => {
      const [n1, n2] = cluster.nodes;
      const session = await initSession(n1.url); // owned by n1
      const uri = 'test://watched-resource';
      await session.request('resources/subscribe', { uri });
      const before1 = await scrape(n1.base);
      const before2 = await scrape(n2.base);
      // touch_resource on n2: n2 publishes, n1 delivers to its subscriber's stream.
      const touched = await initSessionRequest(n2.url, session, 'tools/call', { name: 'touch_resource', arguments: { uri } });
      assert.ok(touched.result, JSON.stringify(touched));
      const m2 = await scrape(n2.base);
      assert.ok(m2.value('frontmcp_relay_published_total') > before2.value('frontmcp_relay_published_total'));
      const m1 = await pollUntil(
        () => scrape(n1.base),
        (m) => m.value('frontmcp_relay_delivered_total') > before1.value('frontmcp_relay_delivered_total'),
        5_000,
        'n1 to count the relayed resources/updated as delivered',
      );
      assert.equal(m1.value('frontmcp_relay_dropped_total'), 0, n1.logLines(/relay: message dropped/).join('\n'));
      assert.equal(m2.value('frontmcp_sessions', { state: 'replica' }), 1, 'n2 served the session as a replica');
      assert.ok(m1.value('frontmcp_redis_command_duration_seconds_count') > 0);
      // (a command sent before the first connection at start-up may count; none since)
      assert.equal(m1.value('frontmcp_redis_errors_total'), before1.value('frontmcp_redis_errors_total'));
      const age = m1.value('frontmcp_heartbeat_age_seconds');
      assert.ok(age >= 0 && age < FAST.heartbeatTtlMs / 1000, `heartbeat age ${age}`);

      await killNode(n1);
      // The session moves to n2 (request path or scanner, whichever comes first).
      await pollUntil(
        () => initSessionRequest(n2.url, session, 'ping', {}).catch(() => undefined),
        (r) => r?.result !== undefined,
        10_000,
        'the session to be served by n2 after the kill',
      );
      const m = await pollUntil(
        () => scrape(n2.base),
        (x) => x.sum('frontmcp_takeovers_total') === 1,
        5_000,
        'n2 to count one takeover',
      );
      assert.equal(m.value('frontmcp_orphans_claimed_total'), m.value('frontmcp_takeovers_total', { path: 'scanner' }));
      assert.equal(m.value('frontmcp_sessions', { state: 'owned' }), 1);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('structured logs', () => {
  it('--log-format json: every line is a JSON object with ts, level, node, msg; requests carry method, id and session', async () => {
    const s = await startServer(['--log-format', 'json', '--log-level', 'debug', '--node-id', 'json-node']);
    let stderr = s.stderr();
    s.proc.stderr.on('data', (c) => (stderr += c));
    try {
      const session = await initSession(s.url);
      const msg = rpc('tools/call', { name: 'echo', arguments: { text: 'logged' } });
      assert.equal((await session.post(msg)).status, 200);
      const lines = await pollUntil(
        () => stderr.split('\n').filter(Boolean),
        (ls) => ls.some((l) => l.includes('"request served"') && l.includes('tools/call')),
        5_000,
        'a request log line',
      );
      const records = lines.map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          assert.fail(`not a JSON line: ${l}`);
        }
      });
      for (const r of records) {
        assert.match(r.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.ok(['trace', 'debug', 'info', 'warning', 'error', 'critical'].includes(r.level), r.level);
        assert.equal(r.node, 'json-node');
        assert.equal(typeof r.msg, 'string');
      }
      const served = records.find((r) => r.msg === 'request served' && r.method === 'tools/call');
      assert.equal(served.session, session.sessionId);
      assert.equal(served.id, String(msg.id));
      assert.equal(served.outcome, 'ok');
      assert.match(served.us, /^\d+$/);
      assert.ok(records.some((r) => r.msg === 'session initialized' && r.session === session.sessionId));
    } finally {
      await s.stop();
    }
  });
});
