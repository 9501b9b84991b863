// A frontmcp cluster behind a real HAProxy running the shipped deploy/haproxy/haproxy.cfg
// (only its environment variables point it at loopback ports) and a real redis-server:
// the configuration is valid as shipped; cookie affinity on the server's own
// __frontmcp_node cookie; the official SDK client keeps its session when its node is
// SIGKILLed; an SSE stream passes through unbuffered; a rolling restart (SIGTERM) under
// load fails no call; a node whose /readyz answers 503 leaves the rotation and its cookie
// is ignored until it is ready again.
// Needs haproxy (2.6+) and redis-server on PATH. docs: deploy/haproxy/haproxy.cfg (header).
//
// Every wait has a deadline; nothing sleeps to synchronise. The one deliberate duration is
// the Redis stall in the last test, which is the fault itself.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  INITIALIZED,
  NO_RATE_LIMITS,
  httpRequest,
  initializeRequest,
  mcpPost,
  openSse,
  pollUntil,
  responseTo,
  rpc,
  withTimeout,
} from './lib/harness.mjs';
import { REQ, cookieJarFetch } from './lib/sdk.mjs';
import { AFFINITY_COOKIE, affinityCookie, killNode, startCluster, startNode, startRedis } from './lib/cluster.mjs';
import { EXAMPLE_NODES } from './lib/nginx.mjs';
import { NODE_SLOTS, SHIPPED_CONFIG, haproxyCheck, serverName, startHaproxy } from './lib/haproxy.mjs';

const WAIT_MS = 5_000;
const WATCHED = 'test://watched-resource';

// ---------------------------------------------------------------------------------------------
// Helpers

/** A raw session through the proxy that keeps the affinity cookie like a browser would. */
async function rawSession(url, { cookie } = {}) {
  const init = initializeRequest();
  const res = await mcpPost(url, init, { headers: cookie ? { Cookie: `${AFFINITY_COOKIE}=${cookie}` } : {} });
  assert.equal(res.status, 200, res.body);
  const set = affinityCookie([].concat(res.headers['set-cookie'] ?? []));
  const session = {
    sessionId: res.headers['mcp-session-id'],
    protocolVersion: responseTo(res, init.id).result.protocolVersion,
    initResponse: res,
    cookie: set?.value,
  };
  const ack = await post(url, session, INITIALIZED);
  assert.equal(ack.status, 202, ack.body);
  return session;
}

function sessionHeaders(session, cookie = session.cookie) {
  const h = { 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion };
  if (cookie !== undefined) h.Cookie = `${AFFINITY_COOKIE}=${cookie}`;
  return h;
}

function post(url, session, message, { cookie } = {}) {
  return mcpPost(url, message, { headers: sessionHeaders(session, cookie), timeoutMs: 10_000 });
}

/** tools/call whoami through the proxy: { nodeId (from the tool), header (X-FrontMCP-Machine-Id), res }. */
async function whoami(url, session, opts) {
  const msg = rpc('tools/call', { name: 'whoami', arguments: {} });
  const res = await post(url, session, msg, opts);
  assert.equal(res.status, 200, `whoami: HTTP ${res.status} ${res.body}`);
  const reply = responseTo(res, msg.id);
  assert.ok(reply?.result?.structuredContent, `whoami reply: ${res.body}`);
  assert.equal(reply.result.structuredContent.sessionId, session.sessionId);
  return { nodeId: reply.result.structuredContent.nodeId, header: res.headers['x-frontmcp-machine-id'], res };
}

/**
 * The official SDK client with a cookie jar and a log of its HTTP exchanges (as a browser
 * or a cookie-aware HTTP client would talk to the proxy).
 */
async function connectSdk(url) {
  const { fetch: cookieFetch, jar, exchanges } = cookieJarFetch();
  const client = new Client({ name: 'frontmcp-e2e-haproxy', version: '0.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: cookieFetch,
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
  });
  await withTimeout(client.connect(transport, REQ), 10_000, `SDK client to connect to ${url}`);
  return {
    client,
    transport,
    jar,
    exchanges,
    initializeCount: () => exchanges.filter((e) => e.rpc.includes('initialize')).length,
    whoami: async () => (await client.callTool({ name: 'whoami', arguments: {} }, undefined, REQ)).structuredContent,
    close: () => withTimeout(client.close(), 5_000, 'client.close()').catch(() => {}),
  };
}

/** Sends raw request bytes and resolves to the status code of the answer. Bounded. */
function rawStatus(port, text) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => s.write(text));
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (c) => {
        buf += c;
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
        if (m) {
          resolve(Number(m[1]));
          s.destroy();
        }
      });
      s.on('error', reject);
      s.on('close', () => reject(new Error(`connection closed without a status line: ${JSON.stringify(buf)}`)));
    }),
    5_000,
    'a raw HTTP answer',
  );
}

// ---------------------------------------------------------------------------------------------

describe('deploy/haproxy/haproxy.cfg as shipped', () => {
  it('haproxy -c accepts it with its defaults and with a loopback environment', async () => {
    const plain = await haproxyCheck();
    assert.equal(plain.code, 0, plain.output);
    assert.doesNotMatch(plain.output, /\[WARNING\]|\[ALERT\]/, 'no warnings');
    const env = Object.fromEntries(
      Array.from({ length: NODE_SLOTS }, (_, i) => [
        [`FRONTMCP_NODE_${i}_ADDR`, `127.0.0.1:${4000 + i}`],
        [`FRONTMCP_NODE_${i}_ID`, `node-${i}`],
      ]).flat(),
    );
    const loopback = await haproxyCheck({ ...env, FRONTMCP_HAPROXY_BIND: '127.0.0.1:4100', FRONTMCP_HAPROXY_STATS_BIND: '127.0.0.1:4101' });
    assert.equal(loopback.code, 0, loopback.output);
  });

  it('describes the same example cluster as deploy/nginx/frontmcp.conf and keeps the settings its header relies on', () => {
    const text = fs.readFileSync(SHIPPED_CONFIG, 'utf8');
    const preset = Object.fromEntries([...text.matchAll(/^\s*presetenv\s+(\S+)\s+(\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
    EXAMPLE_NODES.forEach((n, i) => {
      assert.equal(preset[`FRONTMCP_NODE_${i}_ADDR`], `${n.host}:${n.port}`, `default address of slot ${i}`);
      assert.equal(preset[`FRONTMCP_NODE_${i}_ID`], n.nodeId, `default node id of slot ${i}`);
    });
    const servers = [...text.matchAll(/^\s*server\s+(\S+)\s+"\$\{FRONTMCP_NODE_(\d)_ADDR\}"\s+cookie\s+"\$\{FRONTMCP_NODE_(\d)_ID\}"/gm)];
    assert.deepEqual(
      servers.map((m) => [m[1], m[2], m[3]]),
      Array.from({ length: NODE_SLOTS }, (_, i) => [serverName(i), String(i), String(i)]),
      'one server line per slot, its cookie value = the node id of its address',
    );
    // Passive cookie mode: HAProxy must not insert, rewrite or prefix the server's cookie.
    assert.match(text, /^\s*cookie __frontmcp_node\s*$/m);
    for (const line of ['option redispatch', 'option http-server-close', 'http-check send meth GET uri /readyz', 'http-check expect status 200', 'option forwardfor', 'timeout server 1h', 'timeout client 1h']) {
      assert.match(text, new RegExp(`^\\s*${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `"${line}"`);
    }
    assert.doesNotMatch(text, /^\s*(compression|option http-buffer-request|retry-on)\b/m, 'nothing that holds SSE events back or retries a sent POST');
  });
});

describe('HAProxy in front of 3 nodes: affinity and streams', () => {
  let cluster;
  let lb;
  const streams = [];
  const clients = [];
  before(async () => {
    cluster = await startCluster(3, { args: [...NO_RATE_LIMITS] });
    lb = await startHaproxy(cluster.nodes);
  });
  after(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const c of clients.splice(0)) await c.close();
    await lb?.close();
    await cluster?.close();
  });

  it('initialize sets __frontmcp_node naming the node that answered; with the cookie every call runs there', async (t) => {
    const ids = cluster.nodes.map((n) => n.nodeId);
    const session = await rawSession(lb.url);
    assert.ok(ids.includes(session.cookie), `cookie ${AFFINITY_COOKIE}=${session.cookie} names a node (${ids.join(', ')})`);
    assert.equal(session.initResponse.headers['x-frontmcp-machine-id'], session.cookie, 'the node that answered initialize set the cookie');
    for (let i = 0; i < 6; i++) {
      const w = await whoami(lb.url, session);
      assert.equal(w.nodeId, session.cookie, `call ${i} ran on the pinned node`);
      assert.equal(w.header, session.cookie, `call ${i}: X-FrontMCP-Machine-Id`);
    }
    // The cookie, not luck, picks the node: each node id in turn gets the calls.
    for (const id of [...ids].reverse()) {
      for (let i = 0; i < 3; i++) assert.equal((await whoami(lb.url, session, { cookie: id })).nodeId, id, `with ${AFFINITY_COOKIE}=${id}`);
    }
    // Without a cookie (or with an unknown one): round robin over every node.
    const seen = new Set();
    for (let i = 0; i < 6; i++) seen.add((await whoami(lb.url, session, { cookie: i % 2 ? 'no-such-node' : undefined })).nodeId);
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'without a usable cookie the calls are spread over all nodes');
    // HAProxy's log names the server whose cookie matched: slot i <-> node i.
    const bySlot = {};
    for (const e of lb.entries()) if (e.server && e.node) (bySlot[e.server] ??= new Set()).add(e.node);
    t.diagnostic(`nodes per HAProxy server: ${JSON.stringify(Object.fromEntries(Object.entries(bySlot).map(([k, v]) => [k, [...v]])))}`);
    cluster.nodes.forEach((n, i) => assert.deepEqual([...(bySlot[serverName(i)] ?? [])], [n.nodeId], `${serverName(i)} is ${n.nodeId}`));
  });

  it('a body over 4 MiB (by Content-Length) is refused with 413 before it reaches a node', async () => {
    const before = lb.entries().length;
    const status = await rawStatus(lb.port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 5000000\r\n\r\n{');
    assert.equal(status, 413);
    const entry = await pollUntil(() => lb.entries().slice(before).find((e) => e.status === 413), (e) => e !== undefined, WAIT_MS, 'the 413 in the HAProxy log');
    assert.equal(entry.server, '<NOSRV>', `no node was involved: ${entry.line}`);
    assert.equal(entry.node, undefined, `no node answered: ${entry.line}`);
  });

  it('an SSE GET stream through HAProxy delivers resources/updated at once, while the stream stays open', async (t) => {
    const session = await rawSession(lb.url);
    // Accept-Encoding as a browser or fetch() sends it: a proxy that compresses would take it.
    const stream = await openSse(lb.url, { headers: { Accept: 'text/event-stream', 'Accept-Encoding': 'gzip, deflate, br', ...sessionHeaders(session) } });
    streams.push(stream);
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.equal(stream.headers['content-encoding'], undefined, 'not compressed');
    assert.equal(stream.headers['x-frontmcp-machine-id'], session.cookie, 'the stream is on the pinned node');

    const sub = rpc('resources/subscribe', { uri: WATCHED });
    const subRes = await post(lb.url, session, sub);
    assert.ok(responseTo(subRes, sub.id)?.result, `subscribe: ${subRes.body}`);
    const touch = rpc('tools/call', { name: 'touch_resource', arguments: { uri: WATCHED } });
    const t0 = Date.now();
    const touchRes = await post(lb.url, session, touch);
    assert.ok(responseTo(touchRes, touch.id)?.result, `touch_resource: ${touchRes.body}`);
    const ev = await stream.events.nextMatching(
      (e) => e.json?.method === 'notifications/resources/updated' && e.json.params?.uri === WATCHED,
      WAIT_MS,
      'notifications/resources/updated on the GET stream through HAProxy',
    );
    t.diagnostic(`resources/updated arrived ${Date.now() - t0} ms after touch_resource was sent`);
    assert.ok(ev);
    assert.equal(stream.events.ended, false, 'the event arrived on the open stream, not when it ended');

    // Legacy transport: GET /sse sends its endpoint event right away.
    const legacy = await openSse(`${lb.base}/sse`, { headers: { Accept: 'text/event-stream' } });
    streams.push(legacy);
    assert.equal(legacy.status, 200);
    const endpoint = await legacy.events.next(WAIT_MS, 'the endpoint event of GET /sse through HAProxy');
    assert.equal(endpoint.event, 'endpoint');
    assert.match(endpoint.data, /^\/message\?sessionId=/);
    assert.ok(affinityCookie([].concat(legacy.headers['set-cookie'] ?? [])), 'GET /sse sets the affinity cookie');
  });

  // Last in this group: it kills a node.
  it('the official SDK client keeps its session when its node is SIGKILLed: no re-initialize, re-pinned', async (t) => {
    const c = await connectSdk(lb.url);
    clients.push(c);
    const sid = c.transport.sessionId;
    const pinned = c.jar.get(AFFINITY_COOKIE);
    const ids = cluster.nodes.map((n) => n.nodeId);
    assert.ok(ids.includes(pinned), `cookie ${AFFINITY_COOKIE}=${pinned} names a node`);
    for (let i = 0; i < 5; i++) assert.deepEqual(await c.whoami(), { nodeId: pinned, sessionId: sid });

    const slot = cluster.nodes.findIndex((n) => n.nodeId === pinned);
    const logBefore = lb.entries().length;
    await killNode(cluster.nodes[slot], 'SIGKILL');
    const t0 = Date.now();
    const first = await withTimeout(c.whoami(), WAIT_MS, 'the first call after SIGKILL of the pinned node');
    const firstMs = Date.now() - t0;
    assert.notEqual(first.nodeId, pinned);
    assert.equal(first.sessionId, sid, 'same session');
    // HAProxy logs a request when it ends: the first POST with the dead node's cookie that
    // another node answered.
    const how = await pollUntil(
      () => lb.entries().slice(logBefore).find((e) => /^POST /.test(e.request ?? '') && e.cookie === pinned && e.node !== pinned),
      (e) => e !== undefined,
      WAIT_MS,
      'the HAProxy log line of the first POST after the kill',
    );
    t.diagnostic(`first call after SIGKILL of ${pinned}: ${firstMs} ms on ${first.nodeId}; HAProxy log: ${how.line}`);
    assert.equal(how.node, first.nodeId);
    // Health checks need two failures a second apart to mark the node DOWN; a call this soon
    // after the kill reached another node by `option redispatch` ("+": redispatched).
    if (firstMs < 900) assert.match(how.retries ?? '', /^\+/, `redispatched, not routed around a DOWN server: ${how.line}`);
    assert.equal(how.status, 200);

    const survivors = ids.filter((id) => id !== pinned);
    await pollUntil(
      async () => {
        await c.whoami();
        return c.jar.get(AFFINITY_COOKIE);
      },
      (cookie) => survivors.includes(cookie),
      WAIT_MS,
      'the affinity cookie to name a surviving node',
    );
    const repinned = c.jar.get(AFFINITY_COOKIE);
    for (let i = 0; i < 5; i++) assert.deepEqual(await c.whoami(), { nodeId: repinned, sessionId: sid }, 'calls follow the new cookie');
    assert.equal(c.transport.sessionId, sid, 'same session id');
    assert.equal(c.initializeCount(), 1, 'no re-initialize');
    const failedPosts = c.exchanges.filter((e) => e.method === 'POST' && e.status !== 200 && e.status !== 202);
    assert.deepEqual(failedPosts, [], 'no POST failed');
    await lb.waitServer(slot, 'DOWN', WAIT_MS);
    t.diagnostic(`re-pinned to ${repinned}; HAProxy marked ${serverName(slot)} DOWN`);
  });
});

describe('HAProxy during a rolling restart under load', () => {
  let cluster;
  let lb;
  const clients = [];
  before(async () => {
    cluster = await startCluster(3, { args: [...NO_RATE_LIMITS] });
    lb = await startHaproxy(cluster.nodes);
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.close();
    await lb?.close();
    await cluster?.close();
  });

  it('each node in turn: SIGTERM, exit 0, DOWN in HAProxy, back on its port and UP; no call fails, no session is lost', async (t) => {
    for (let i = 0; i < 6; i++) clients.push(await connectSdk(lb.url));
    const sessionIds = clients.map((c) => c.transport.sessionId);
    let stop = false;
    let ok = 0;
    const failures = [];
    const loops = clients.map(async (c, i) => {
      while (!stop) {
        try {
          const w = await c.whoami();
          assert.equal(w.sessionId, sessionIds[i]);
          ok += 1;
        } catch (err) {
          failures.push({ client: i, error: String(err) });
        }
      }
    });
    const restarts = [];
    try {
      await pollUntil(async () => ok, (n) => n >= 50, 10_000, '50 calls before the first restart');
      for (let i = 0; i < cluster.nodes.length; i++) {
        const { nodeId, port } = cluster.nodes[i];
        const t0 = Date.now();
        const exit = await killNode(cluster.nodes[i], 'SIGTERM');
        assert.equal(exit.code, 0, `${nodeId} exit after SIGTERM: ${JSON.stringify(exit)}`);
        const exitMs = Date.now() - t0;
        // Stay down until the health checks see it (meanwhile the calls pinned to it are
        // refused and redispatched), then come back on the same port.
        await lb.waitServer(i, 'DOWN', 10_000);
        const downMs = Date.now() - t0;
        cluster.nodes[i] = await cluster.add({ nodeId, port });
        await lb.waitServer(i, 'UP', 10_000);
        const okAt = ok;
        await pollUntil(async () => ok, (n) => n >= okAt + 20, 10_000, `calls going on after ${nodeId} came back`);
        restarts.push({ nodeId, exitMs, downMs, upMs: Date.now() - t0 });
      }
    } finally {
      stop = true;
      await withTimeout(Promise.all(loops), 15_000, 'the load loops to stop');
    }
    const posts5xx = lb.entries().filter((e) => /^POST /.test(e.request ?? '') && e.status >= 500);
    t.diagnostic(`calls ok: ${ok}, failed: ${failures.length}; restarts: ${JSON.stringify(restarts)}; POSTs retried by HAProxy: ${lb.entries().filter((e) => /^POST /.test(e.request ?? '') && e.retries !== '0').length}`);
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} failed calls; HAProxy 5xx POSTs:\n${posts5xx.map((e) => e.line).join('\n')}`);
    assert.deepEqual(posts5xx.map((e) => e.line), [], 'no POST answered 5xx by HAProxy');
    assert.deepEqual(clients.map((c) => c.transport.sessionId), sessionIds, 'every client kept its session');
    assert.deepEqual(clients.map((c) => c.initializeCount()), clients.map(() => 1), 'no re-initialize');
  });
});

describe('HAProxy health checks follow /readyz', () => {
  let cluster;
  let lonely; // a node on a Redis of its own, which the test stalls
  let ownRedis;
  let lb;
  before(async () => {
    cluster = await startCluster(2, { args: [...NO_RATE_LIMITS] });
    ownRedis = await startRedis();
    lonely = await startNode(ownRedis, { nodeId: 'e2e-node-own-redis', args: [...NO_RATE_LIMITS] });
    lb = await startHaproxy([...cluster.nodes, lonely]);
  });
  after(async () => {
    ownRedis?.resume();
    await lb?.close();
    if (lonely) await killNode(lonely, 'SIGKILL').catch(() => {});
    await ownRedis?.close();
    await cluster?.close();
  });

  it('a live node answering 503 on /readyz is taken out (its cookie ignored) and comes back when ready', async (t) => {
    const slot = 2;
    // A session of the node's own cluster, pinned to it by its cookie.
    const session = await rawSession(lb.url, { cookie: lonely.nodeId });
    assert.equal(session.cookie, lonely.nodeId);
    assert.equal((await whoami(lb.url, session)).nodeId, lonely.nodeId);

    ownRedis.pause(); // the fault: the node's Redis stalls, so its /readyz turns 503
    let down;
    try {
      down = await lb.waitServer(slot, 'DOWN', 8_000);
      // It is alive and answers: it was the HTTP status of /readyz that took it out.
      const direct = await httpRequest(`${lonely.base}/readyz`, { timeoutMs: 3_000 });
      assert.equal(direct.status, 503, direct.body);
      assert.equal((await httpRequest(`${lonely.base}/healthz`, { timeoutMs: 3_000 })).status, 200);
      assert.equal(down.check_status, 'L7STS', `check status of ${serverName(slot)}: ${JSON.stringify(down)}`);
      assert.equal(down.check_code, '503');
      // A request with its cookie goes to another node instead of waiting for it.
      const other = await rawSession(lb.url, { cookie: lonely.nodeId });
      assert.notEqual(other.initResponse.headers['x-frontmcp-machine-id'], lonely.nodeId, 'the cookie of a DOWN node is ignored');
    } finally {
      ownRedis.resume();
    }
    const up = await lb.waitServer(slot, 'UP', 10_000);
    assert.equal(up.check_status, 'L7OK');
    assert.equal((await whoami(lb.url, session)).nodeId, lonely.nodeId, 'pinned again once it is ready');
    t.diagnostic(`DOWN: ${down.check_status} ${down.check_code} (${down.check_desc}); back UP: ${up.check_status}`);
  });
});
