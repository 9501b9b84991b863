// Distributed mode end to end: real redis-server, real frontmcp-server processes killed with
// SIGKILL/SIGTERM, the official TypeScript SDK client. What is asserted is
// docs/ha-design.md's guarantees (one owner, fencing epoch, no lost session, fast failover,
// orphan scanner, full state, relay, graceful stop, configuration errors).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  Inbox,
  LATEST_PROTOCOL_VERSION,
  httpRequest,
  initSession,
  jsonRpcErrorCode,
  mcpPost,
  openSse,
  pollUntil,
  postHeaders,
  randomText,
  rpc,
  serverBinary,
  withTimeout,
} from './lib/harness.mjs';
import { REQ, closeAll, connectStreamable, textOf } from './lib/sdk.mjs';
import {
  AFFINITY_COOKIE,
  DEFAULT_PREFIX,
  FAST,
  affinityCookie,
  createRouter,
  escapeRegExp,
  holdsFor,
  isResponseOnly,
  killNode,
  readHeartbeat,
  sessionRecord,
  startCluster,
  withCluster as withClusterOf,
} from './lib/cluster.mjs';

const WAIT_MS = 5_000;
const WATCHED = 'test://watched-resource';
const OTHER = 'test://static-text';
const P = DEFAULT_PREFIX;

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * An SDK client whose requests go through `router` (see createRouter): router.target decides
 * the node, as a load balancer would. `sessionId` continues an existing session without
 * initialize. `noGet` answers the SDK's standalone GET with a local 405 (never reaches a
 * node), for tests that drive the GET stream themselves or need an idle client.
 */
async function sdkClient(router, clients, { capabilities = {}, sessionId, noGet = false, name = 'frontmcp-e2e-cluster' } = {}) {
  const client = new Client({ name, version: '0.0.0' }, { capabilities });
  const fetchFn = noGet
    ? (input, init = {}) =>
        (init.method ?? 'GET').toUpperCase() === 'GET' ? Promise.resolve(new Response(null, { status: 405 })) : router.fetch(input, init)
    : router.fetch;
  const transport = new StreamableHTTPClientTransport(new URL(router.target.url), {
    fetch: fetchFn,
    sessionId,
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 10 },
  });
  const errors = [];
  transport.onerror = (e) => errors.push(e);
  await withTimeout(client.connect(transport, REQ), WAIT_MS, `SDK client to connect through ${router.target.nodeId}`);
  clients.push(client);
  return { client, transport, errors };
}

/** Waits until the router saw a GET (standalone stream) to `node` answered 200. */
function getStreamOpenOn(router, node, ms = WAIT_MS) {
  return pollUntil(
    () => router.log.find((e) => e.method === 'GET' && e.node === node.nodeId && e.status === 200),
    Boolean,
    ms,
    `the SDK's GET stream to be open on ${node.nodeId}; router log: ${JSON.stringify(router.log.map((e) => [e.method, e.node, e.status]))}`,
  );
}

async function whoami(client) {
  const r = await client.callTool({ name: 'whoami', arguments: {} }, undefined, REQ);
  assert.notEqual(r.isError, true, JSON.stringify(r));
  return r.structuredContent;
}

function machineId(headers) {
  return headers instanceof Headers ? headers.get('x-frontmcp-machine-id') : headers['x-frontmcp-machine-id'];
}

function rawSetCookies(headers) {
  const v = headers['set-cookie'];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Asserts `cookie` (parsed) is the affinity cookie pinning to `nodeId`, with its attributes. */
function assertAffinityCookie(cookie, nodeId, where) {
  assert.ok(cookie, `${where}: a Set-Cookie ${AFFINITY_COOKIE}`);
  assert.equal(cookie.value, nodeId, `${where}: cookie value`);
  assert.equal(cookie.attributes.path, '/', `${where}: Path=/`);
  assert.equal(cookie.attributes.httponly, true, `${where}: HttpOnly`);
  assert.match(String(cookie.attributes.samesite), /^(Lax|Strict)$/i, `${where}: SameSite`);
  assert.match(String(cookie.attributes['max-age']), /^[1-9]\d*$/, `${where}: Max-Age > 0`);
  assert.equal(cookie.attributes.secure, undefined, `${where}: no Secure over plain http`);
}

/** A raw GET /mcp stream of a session on `node` (optionally resuming). */
function openGet(node, sessionId, lastEventId) {
  const headers = { Accept: 'text/event-stream', 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': LATEST_PROTOCOL_VERSION };
  if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
  return openSse(node.url, { headers, timeoutMs: 10_000 });
}

const isUpdate = (uri) => (ev) => ev.json?.method === 'notifications/resources/updated' && ev.json?.params?.uri === uri;

function claimLine(sessionId, deadNode, epoch) {
  return new RegExp(`\\binfo\\b.*claimed an orphaned session \\(scanner\\) session=${escapeRegExp(sessionId)} from=${escapeRegExp(deadNode)} epoch=${epoch}\\b`, 'i');
}

/** Runs the server binary to completion (it is expected to fail at start). Bounded. */
function runToExit(args, env, ms = 10_000) {
  const base = { ...process.env };
  for (const k of ['REDIS_URL', 'FRONTMCP_REDIS_URL', 'FRONTMCP_CONFIG', 'FRONTMCP_DEPLOYMENT_MODE']) delete base[k];
  const proc = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...env } });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const done = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return withTimeout(done, ms, `${serverBinary()} ${args.join(' ')} to exit`)
    .then((r) => ({ ...r, stdout, stderr }))
    .catch((err) => {
      proc.kill('SIGKILL');
      err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
      throw err;
    });
}

/** Each test that breaks nodes gets its own Redis and nodes. */
async function withCluster(n, opts, body) {
  await withClusterOf(n, opts, async (cluster) => {
    const clients = [];
    try {
      await body(cluster, clients);
    } finally {
      await closeAll(clients);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Three live nodes: routing, affinity, relay, DELETE

describe('distributed mode: a live cluster of three nodes', () => {
  let cluster;
  let n1;
  let n2;
  let n3;
  const clients = [];

  before(async () => {
    cluster = await startCluster(3);
    [n1, n2, n3] = cluster.nodes;
  });
  after(async () => {
    await closeAll(clients);
    await cluster?.close();
  });

  it('(a) initialize and GET /sse set the affinity cookie; every response carries X-FrontMCP-Machine-Id', async () => {
    const router = createRouter(n1);
    const { client } = await sdkClient(router, clients);
    await getStreamOpenOn(router, n1);
    await client.callTool({ name: 'echo', arguments: { text: 'a' } }, undefined, REQ);

    const init = router.log.find((e) => e.message?.method === 'initialize');
    assert.equal(init.status, 200);
    assertAffinityCookie(affinityCookie(init.setCookies), n1.nodeId, 'initialize response');
    const kinds = new Set();
    for (const e of router.log) {
      assert.equal(machineId(e.headers), n1.nodeId, `X-FrontMCP-Machine-Id on ${e.method} ${JSON.stringify(e.message)} (HTTP ${e.status})`);
      kinds.add(`${e.method} ${e.status}`);
    }
    for (const k of ['POST 200', 'POST 202', 'GET 200']) assert.ok(kinds.has(k), `saw a ${k} response: ${[...kinds]}`);

    // Another node pins to itself.
    const r2 = createRouter(n2);
    await sdkClient(r2, clients, { noGet: true });
    const init2 = r2.log.find((e) => e.message?.method === 'initialize');
    assertAffinityCookie(affinityCookie(init2.setCookies), n2.nodeId, 'initialize on node 2');

    // Error answers and other endpoints carry the header too.
    const unknown = await mcpPost(n3.url, rpc('tools/list'), { sessionId: 'no-such-session', protocolVersion: LATEST_PROTOCOL_VERSION });
    assert.equal(unknown.status, 404, unknown.body);
    assert.equal(machineId(unknown.headers), n3.nodeId, '404 carries the header');
    const noSession = await mcpPost(n3.url, rpc('tools/list'));
    assert.equal(noSession.status, 400, noSession.body);
    assert.equal(machineId(noSession.headers), n3.nodeId, '400 carries the header');
    const put = await httpRequest(n3.url, { method: 'PUT', headers: postHeaders(), body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(machineId(put.headers), n3.nodeId, '405 carries the header');
    const health = await httpRequest(`${n3.base}/healthz`);
    assert.equal(health.status, 200, health.body);
    assert.equal(machineId(health.headers), n3.nodeId, '/healthz carries the header');

    // Legacy transport: GET /sse pins the client too.
    const sse = await openSse(`${n2.base}/sse`, { headers: { Accept: 'text/event-stream' } });
    try {
      assert.equal(sse.status, 200);
      assert.equal(machineId(sse.headers), n2.nodeId, 'GET /sse carries the header');
      assertAffinityCookie(affinityCookie(rawSetCookies(sse.headers)), n2.nodeId, 'GET /sse');
    } finally {
      sse.close();
    }
  });

  it('(b) a POST on a non-owner while the owner lives is served there; owner and epoch unchanged', async () => {
    const r1 = createRouter(n1);
    const owner = await sdkClient(r1, clients);
    await getStreamOpenOn(r1, n1);
    const sid = owner.transport.sessionId;
    const before = await sessionRecord(cluster.redis, sid);
    assert.equal(before?.nodeId, n1.nodeId, 'the creating node owns the session');
    assert.equal(before.epoch, 0, 'epoch starts at 0');

    const r2 = createRouter(n2);
    const replica = await sdkClient(r2, clients, { sessionId: sid, noGet: true });
    assert.deepEqual(await whoami(replica.client), { nodeId: n2.nodeId, sessionId: sid });
    const text = randomText('replica');
    const echoed = await replica.client.callTool({ name: 'echo', arguments: { text } }, undefined, REQ);
    assert.equal(textOf(echoed), text);
    const { tools } = await replica.client.listTools({}, REQ);
    assert.ok(tools.some((t) => t.name === 'whoami'));
    assert.ok(!r2.log.some((e) => e.message?.method === 'initialize'), 'no re-initialize on node 2');
    for (const e of r2.log) {
      assert.equal(e.status, 200, `${JSON.stringify(e.message)} on node 2`);
      assert.equal(machineId(e.headers), n2.nodeId);
    }

    // The owner still serves, and Redis still names it.
    assert.deepEqual(await whoami(owner.client), { nodeId: n1.nodeId, sessionId: sid });
    const afterwards = await sessionRecord(cluster.redis, sid);
    assert.equal(afterwards.nodeId, n1.nodeId, 'owner unchanged');
    assert.equal(afterwards.epoch, 0, 'epoch unchanged');
    assert.equal(afterwards.reassignedFrom, undefined, 'never reassigned');
  });

  it('(f) relay: touch_resource on other nodes reaches the subscriber on the owner\'s GET stream', async () => {
    const router = createRouter(n1);
    const watcher = await sdkClient(router, clients);
    await getStreamOpenOn(router, n1);
    const updates = new Inbox('resource updates');
    watcher.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params.uri));
    assert.deepEqual(await watcher.client.subscribeResource({ uri: WATCHED }, REQ), {});

    // Another session on another node.
    const toucher = await connectStreamable(n2.url, { waitForGetStream: false });
    clients.push(toucher.client);
    await toucher.client.callTool({ name: 'touch_resource', arguments: { uri: WATCHED } }, undefined, REQ);
    await updates.waitFor((u) => u === WATCHED, WAIT_MS, `resources/updated relayed from ${n2.nodeId} to ${n1.nodeId}`);

    // The watcher's own session, served as a replica on a third node.
    const before = updates.count();
    const replica = await sdkClient(createRouter(n3), clients, { sessionId: watcher.transport.sessionId, noGet: true });
    await replica.client.callTool({ name: 'touch_resource', arguments: { uri: WATCHED } }, undefined, REQ);
    await updates.waitFor(() => updates.count() > before, WAIT_MS, `resources/updated relayed from ${n3.nodeId} (replica of the same session)`);
    assert.deepEqual(updates.items, [WATCHED, WATCHED]);
    assert.equal((await sessionRecord(cluster.redis, watcher.transport.sessionId)).nodeId, n1.nodeId);
  });

  it('(f2) a subscription acknowledged by a replica is known to the owner before the client\'s next request (20 rounds, after a hand-off)', async () => {
    // The replica writes the subscription to Redis and tells the owner over Pub/Sub; the
    // client's next request (touch_resource straight at the owner) can overtake that
    // message unless the replica waits for the owner's acknowledgement before answering.
    let missed = 0;
    for (let round = 0; round < 20; round++) {
      const session = await initSession(n1.url); // owned by n1
      const get = await openSse(n3.url, {
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      }); // n3 asks n1 for the session: a hand-off
      try {
        assert.equal(get.status, 200);
        const subscriber = round % 2 === 0 ? n1 : n2; // the old owner, or a plain replica
        const sub = await mcpPost(subscriber.url, rpc('resources/subscribe', { uri: WATCHED }), session);
        assert.equal(sub.status, 200, sub.body);
        const touch = await mcpPost(n3.url, rpc('tools/call', { name: 'touch_resource', arguments: { uri: WATCHED } }), session);
        assert.equal(touch.status, 200, touch.body);
        await get.events
          .nextMatching((e) => e.json?.method === 'notifications/resources/updated', WAIT_MS, 'resources/updated on the new owner\'s stream')
          .catch(() => (missed += 1));
      } finally {
        get.close();
      }
    }
    assert.equal(missed, 0, `${missed} of 20 acknowledged subscriptions missed the next update`);
  });

  it('(g) sampling: the client\'s answer POSTed to another node reaches the waiting node', async () => {
    // Requests go to node 1; JSON-RPC responses (the client's answers) to node 2.
    const router = createRouter(n1, { route: ({ message }) => (message && isResponseOnly(message) ? n2 : undefined) });
    const { client } = await sdkClient(router, clients, { capabilities: { sampling: {} } });
    await getStreamOpenOn(router, n1);
    const answer = randomText('llm-answer');
    const seen = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
      seen.push({ params: req.params, id: extra.requestId });
      return { role: 'assistant', content: { type: 'text', text: answer }, model: 'e2e-model', stopReason: 'endTurn' };
    });
    const prompt = randomText('prompt');
    const result = await client.callTool({ name: 'test_sampling', arguments: { prompt } }, undefined, REQ);
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.ok(textOf(result).includes(answer), `tool result ${JSON.stringify(result)} contains the answer`);

    assert.equal(seen.length, 1, 'one sampling request');
    assert.deepEqual(seen[0].params.messages[0].content, { type: 'text', text: prompt });
    assert.match(String(seen[0].id), new RegExp(`@${escapeRegExp(n1.nodeId)}$`), 'the request id names the waiting node');
    const relayed = router.log.filter((e) => e.node === n2.nodeId);
    assert.equal(relayed.length, 1, `one POST to node 2: ${JSON.stringify(relayed.map((e) => e.message))}`);
    assert.equal(relayed[0].message.id, seen[0].id, 'node 2 got the answer to the sampling request');
    await withTimeout(relayed[0].done, WAIT_MS, 'node 2 to answer the POST of the answer');
    assert.equal(relayed[0].status, 202, 'node 2 accepted the answer');
  });

  it('(l) DELETE on a non-owner ends the session everywhere', async () => {
    const session = await initSession(n1.url);
    const sid = session.sessionId;
    const stream = await openGet(n1, sid);
    assert.equal(stream.status, 200);
    try {
      assert.equal((await sessionRecord(cluster.redis, sid))?.nodeId, n1.nodeId);
      const r2 = createRouter(n2);
      const other = await sdkClient(r2, clients, { sessionId: sid, noGet: true });
      await withTimeout(other.transport.terminateSession(), WAIT_MS, 'DELETE on node 2');
      const del = r2.log.find((e) => e.method === 'DELETE');
      assert.equal(del.status, 200);

      for (const node of [n1, n2, n3]) {
        const res = await mcpPost(node.url, rpc('tools/list'), { sessionId: sid, protocolVersion: LATEST_PROTOCOL_VERSION });
        assert.equal(res.status, 404, `${node.nodeId} after DELETE: ${res.body}`);
        assert.equal(jsonRpcErrorCode(res.body), -32001, res.body);
      }
      const again = await httpRequest(n3.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid } });
      assert.equal(again.status, 404, `a second DELETE: ${again.body}`);
      // The owner closes the session's stream.
      await stream.events.waitEnd(WAIT_MS);
      assert.equal(await cluster.redis.exists(`${P}session:${sid}`), false, 'record deleted');
      assert.ok(!(await cluster.redis.smembers(`${P}node:${n1.nodeId}:sessions`)).includes(sid), 'not in the owner\'s session set');
    } finally {
      stream.close();
    }
  });

  it('(l2) the owner stops serving a session before a DELETE on another node is answered (20 rounds, no wait between)', async () => {
    // Fresh-clone CI (ASan): (l)'s first request on the owner right after the DELETE was
    // served from memory now and then: the owner had not yet read the relay's "drop".
    const served = [];
    for (let round = 0; round < 20; round++) {
      const session = await initSession(n1.url);
      await session.request('tools/list', {}); // the owner serves it from memory from now on
      const del = await httpRequest(n2.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session.sessionId } });
      assert.equal(del.status, 200, del.body);
      const res = await mcpPost(n1.url, rpc('tools/list'), { sessionId: session.sessionId, protocolVersion: LATEST_PROTOCOL_VERSION });
      if (res.status !== 404) served.push(`round ${round}: HTTP ${res.status}`);
    }
    assert.deepEqual(served, [], 'the owner answered a deleted session');
  });
});

// ---------------------------------------------------------------------------------------------
// Failover

describe('distributed mode: failover', () => {
  it('(c) after SIGKILL of the owner the next request succeeds on another node at once (no TTL wait, no re-initialize)', async (t) => {
    // A long heartbeat TTL: waiting for it would take seconds.
    const timing = { heartbeatIntervalMs: 500, heartbeatTtlMs: 3_000, takeoverGracePeriodMs: 200 };
    await withCluster(2, timing, async ({ redis, nodes: [n1, n2] }, clients) => {
      const router = createRouter(n1);
      const { client, transport } = await sdkClient(router, clients);
      await getStreamOpenOn(router, n1);
      const sid = transport.sessionId;
      assert.deepEqual(await whoami(client), { nodeId: n1.nodeId, sessionId: sid });

      router.target = n2; // the load balancer's next pick once node 1 is gone
      await killNode(n1, 'SIGKILL');
      const logged = router.log.length;
      const t0 = performance.now();
      const served = await whoami(client);
      const elapsed = performance.now() - t0;
      assert.deepEqual(served, { nodeId: n2.nodeId, sessionId: sid });
      t.diagnostic(`first request after the kill: ${elapsed.toFixed(1)} ms`);
      assert.ok(elapsed < 1_000, `first request after the kill took ${elapsed.toFixed(0)} ms`);
      assert.equal(await redis.exists(`${P}heartbeat:${n1.nodeId}`), true, 'the dead node\'s heartbeat had not expired yet');
      assert.ok(!router.log.slice(logged).some((e) => e.message?.method === 'initialize'), 'no re-initialize');
      const rec = await sessionRecord(redis, sid);
      assert.ok(rec, 'the session record is still in Redis');
      assert.equal(rec.state?.protocolVersion, LATEST_PROTOCOL_VERSION);

      // Stream-bound work moves within heartbeatTtlMs + takeoverGracePeriodMs: the SDK's
      // GET stream reconnects to node 2 and node 2 becomes the owner.
      const bound = timing.heartbeatTtlMs + timing.takeoverGracePeriodMs + 2_000;
      await getStreamOpenOn(router, n2, bound);
      const moved = await pollUntil(() => sessionRecord(redis, sid), (r) => r?.nodeId === n2.nodeId, bound, 'node 2 to own the session');
      assert.equal(moved.epoch, 1);
      assert.equal(moved.reassignedFrom, n1.nodeId);
      assert.deepEqual(await whoami(client), { nodeId: n2.nodeId, sessionId: sid });
    });
  });

  it('(c2) a takeover on the request path (heartbeat expired, scanner not yet) re-pins the client with the cookie', async () => {
    // Grace period long enough that the scanner stays out of it.
    await withCluster(2, { ...FAST, takeoverGracePeriodMs: 20_000 }, async ({ redis, nodes: [n1, n2] }, clients) => {
      const first = await sdkClient(createRouter(n1), clients, { noGet: true });
      const sid = first.transport.sessionId;
      await first.client.close();

      await killNode(n1, 'SIGKILL');
      await pollUntil(() => redis.exists(`${P}heartbeat:${n1.nodeId}`), (v) => v === false, WAIT_MS, 'the dead node\'s heartbeat to expire');
      assert.equal((await sessionRecord(redis, sid)).nodeId, n1.nodeId, 'not claimed by the scanner yet');

      const router = createRouter(n2);
      const { client } = await sdkClient(router, clients, { sessionId: sid, noGet: true });
      assert.deepEqual(await whoami(client), { nodeId: n2.nodeId, sessionId: sid });
      const firstResponse = router.log.find((e) => e.method === 'POST');
      assert.equal(firstResponse.status, 200);
      assertAffinityCookie(affinityCookie(firstResponse.setCookies), n2.nodeId, 'first response of the new owner');
      const rec = await sessionRecord(redis, sid);
      assert.equal(rec.nodeId, n2.nodeId);
      assert.equal(rec.epoch, 1);
      assert.equal(rec.reassignedFrom, n1.nodeId);
    });
  });

  it('(d) owner killed, client idle: the orphan scanner claims the session, then the next request is served', async (t) => {
    await withCluster(2, FAST, async ({ redis, nodes: [n1, n2] }, clients) => {
      const first = await sdkClient(createRouter(n1), clients, { noGet: true });
      const sid = first.transport.sessionId;
      assert.deepEqual(await whoami(first.client), { nodeId: n1.nodeId, sessionId: sid });
      await first.client.close(); // the client goes idle; the session lives on

      const killedAt = await redis.timeMs();
      await killNode(n1, 'SIGKILL');
      const rec = await pollUntil(
        () => sessionRecord(redis, sid),
        (r) => r?.nodeId !== n1.nodeId,
        FAST.heartbeatTtlMs + FAST.takeoverGracePeriodMs + 3_000,
        'the orphan scanner to claim the session',
      );
      assert.equal(rec.nodeId, n2.nodeId);
      assert.equal(rec.epoch, 1);
      assert.equal(rec.reassignedFrom, n1.nodeId);
      const now = await redis.timeMs();
      t.diagnostic(`claimed ${rec.reassignedAt - killedAt} ms after the kill (TTL ${FAST.heartbeatTtlMs} + grace ${FAST.takeoverGracePeriodMs})`);
      assert.ok(rec.reassignedAt <= now, `reassignedAt ${rec.reassignedAt} is Redis time, not later than ${now}`);
      // Dead for at least the grace period: the last beat was at most one interval before the kill.
      const earliest = killedAt - FAST.heartbeatIntervalMs + FAST.heartbeatTtlMs + FAST.takeoverGracePeriodMs;
      assert.ok(rec.reassignedAt >= earliest - 20, `claimed ${rec.reassignedAt - killedAt} ms after the kill: before TTL + grace`);
      await n2.waitForLog(claimLine(sid, n1.nodeId, 1), WAIT_MS);
      assert.equal(n2.logLines(claimLine(sid, n1.nodeId, 1)).length, 1, 'one INFO line per claim');

      const router = createRouter(n2);
      const { client } = await sdkClient(router, clients, { sessionId: sid, noGet: true });
      assert.deepEqual(await whoami(client), { nodeId: n2.nodeId, sessionId: sid });
      assert.ok(!router.log.some((e) => e.message?.method === 'initialize'), 'no re-initialize');
      assert.equal((await sessionRecord(redis, sid)).epoch, 1, 'served without another ownership change');
    });
  });

  it('(d2) the node that claimed an idle session re-pins the client: its first response sets the cookie', async () => {
    // ha-design.md: the cookie is set "again by a new owner on its first response after a
    // takeover (so the load balancer re-pins)"; a scanner claim is a takeover.
    await withCluster(2, FAST, async ({ redis, nodes: [n1, n2] }, clients) => {
      const first = await sdkClient(createRouter(n1), clients, { noGet: true });
      const sid = first.transport.sessionId;
      await first.client.close();
      await killNode(n1, 'SIGKILL');
      await pollUntil(() => sessionRecord(redis, sid), (r) => r?.nodeId === n2.nodeId, WAIT_MS, 'node 2 to claim the session');

      const router = createRouter(n2);
      const { client } = await sdkClient(router, clients, { sessionId: sid, noGet: true });
      await whoami(client);
      const firstResponse = router.log.find((e) => e.method === 'POST');
      assert.equal(firstResponse.status, 200);
      assertAffinityCookie(
        affinityCookie(firstResponse.setCookies),
        n2.nodeId,
        `first response after the scanner's takeover (headers: ${JSON.stringify([...firstResponse.headers])})`,
      );
    });
  });

  it('(e) owner killed with an open GET stream: Last-Event-ID on another node replays the missed event', async () => {
    await withCluster(2, FAST, async ({ redis, nodes: [n1, n2] }, clients) => {
      const router = createRouter(n1);
      const watcher = await sdkClient(router, clients, { noGet: true });
      const sid = watcher.transport.sessionId;
      await watcher.client.subscribeResource({ uri: WATCHED }, REQ);
      await watcher.client.subscribeResource({ uri: OTHER }, REQ);
      const toucher = await connectStreamable(n2.url, { waitForGetStream: false });
      clients.push(toucher.client);
      const touch = (uri) => toucher.client.callTool({ name: 'touch_resource', arguments: { uri } }, undefined, REQ);

      const stream = await openGet(n1, sid);
      assert.equal(stream.status, 200);
      await touch(WATCHED);
      const seen = await stream.events.nextMatching(isUpdate(WATCHED), WAIT_MS, 'the live update on node 1');
      assert.ok(seen.id, 'events of the GET stream carry ids');
      stream.close(); // the connection drops

      await touch(OTHER); // happens while the client is away
      // The event log is shared through Redis ("<seq> <json>" items); wait until the missed
      // event is there (the write-behind copy may lag a SIGKILL by milliseconds, docs/ha.md).
      const log = await pollUntil(
        () => redis.lrange(`${P}events:${sid}/0`),
        (items) => items.some((i) => i.includes(OTHER)),
        WAIT_MS,
        'the missed event in the Redis event log',
      );
      for (const item of log) assert.match(item, /^\d+ \{/, 'event log item format');

      await killNode(n1, 'SIGKILL');
      const resumed = await openGet(n2, sid, seen.id);
      try {
        assert.equal(resumed.status, 200);
        assert.equal(machineId(resumed.headers), n2.nodeId);
        assertAffinityCookie(affinityCookie(rawSetCookies(resumed.headers)), n2.nodeId, 'GET that moved the session');
        const missed = await resumed.events.nextMatching(isUpdate(OTHER), WAIT_MS, 'the missed update replayed on node 2');
        assert.ok(!resumed.events.all.some(isUpdate(WATCHED)), 'events up to Last-Event-ID are not replayed');
        assert.notEqual(missed.id, seen.id);

        // The subscription moved too: a new update arrives live on node 2's stream.
        await touch(WATCHED);
        await resumed.events.nextMatching(isUpdate(WATCHED), WAIT_MS, 'a live update on node 2');
      } finally {
        resumed.close();
      }
      const rec = await sessionRecord(redis, sid);
      assert.equal(rec.nodeId, n2.nodeId);
      assert.equal(rec.epoch, 1);
      assert.equal(rec.reassignedFrom, n1.nodeId);
    });
  });

  it('(h) the full session state survives a takeover: protocol version, client info, log level, subscriptions', async () => {
    await withCluster(2, FAST, async ({ redis, nodes: [n1, n2] }, clients) => {
      const router = createRouter(n1);
      const { client, transport } = await sdkClient(router, clients, { name: 'state-client' });
      await getStreamOpenOn(router, n1);
      const sid = transport.sessionId;
      const logs = new Inbox('log notifications');
      const updates = new Inbox('resource updates');
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params.uri));
      await client.setLoggingLevel('error', REQ);
      await client.subscribeResource({ uri: WATCHED }, REQ);

      const checkState = (rec, where) => {
        const st = rec.state;
        assert.equal(typeof st, 'object', `${where}: state JSON`);
        assert.equal(st.protocolVersion, LATEST_PROTOCOL_VERSION, `${where}: protocolVersion`);
        assert.equal(st.clientInfo?.name, 'state-client', `${where}: clientInfo`);
        assert.equal(typeof st.clientCapabilities, 'object', `${where}: clientCapabilities`);
        assert.equal(st.logLevel, 'error', `${where}: logLevel`);
        assert.ok(JSON.stringify(st.subscriptions ?? null).includes(WATCHED), `${where}: subscriptions ${JSON.stringify(st.subscriptions)}`);
      };
      const before = await sessionRecord(redis, sid);
      checkState(before, 'before the kill');

      router.target = n2;
      await killNode(n1, 'SIGKILL');
      // The SDK's GET stream reconnects (to node 2), which moves the session there.
      await getStreamOpenOn(router, n2, FAST.heartbeatTtlMs + FAST.takeoverGracePeriodMs + WAIT_MS);
      const rec = await pollUntil(() => sessionRecord(redis, sid), (r) => r?.nodeId === n2.nodeId, WAIT_MS, 'node 2 to own the session');
      assert.equal(rec.epoch, 1);
      assert.equal(rec.reassignedFrom, n1.nodeId);
      checkState(rec, 'after the takeover');

      // Subscription: an update from another session reaches the client on its new stream.
      const toucher = await connectStreamable(n2.url, { waitForGetStream: false });
      clients.push(toucher.client);
      await toucher.client.callTool({ name: 'touch_resource', arguments: { uri: WATCHED } }, undefined, REQ);
      await updates.waitFor((u) => u === WATCHED, WAIT_MS, 'resources/updated after the takeover');

      // Log level: still "error", so the tool's info logs are not sent (on the POST stream,
      // before the answer) ...
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} }, undefined, REQ);
      assert.deepEqual(logs.items, [], 'no info logs at level error');
      // ... and the same call at level info does send them (the check above could fail).
      await client.setLoggingLevel('info', REQ);
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} }, undefined, REQ);
      await logs.waitFor(() => logs.count() >= 3, WAIT_MS, 'three info logs at level info');
    });
  });

  it('(i) a node restarted with the same id within the grace period keeps its sessions', async (t) => {
    const timing = { ...FAST, takeoverGracePeriodMs: 1_500 };
    await withCluster(2, timing, async (cluster, clients) => {
      const { redis, nodes: [n1, n2] } = cluster;
      const first = await sdkClient(createRouter(n1), clients, { noGet: true });
      const sid = first.transport.sessionId;
      await first.client.close();
      const oldBeat = await readHeartbeat(redis, n1.nodeId);

      const killedAt = Date.now();
      await killNode(n1, 'SIGKILL');
      const again = await cluster.add({ nodeId: n1.nodeId });
      const beat = await pollUntil(
        () => readHeartbeat(redis, n1.nodeId),
        (hb) => hb !== null && hb.startedAt > oldBeat.startedAt,
        WAIT_MS,
        'the restarted node\'s heartbeat',
      );
      const restartMs = Date.now() - killedAt;
      t.diagnostic(`restarted and beating ${restartMs} ms after the kill`);
      assert.ok(restartMs < timing.heartbeatTtlMs + timing.takeoverGracePeriodMs - 300, `restart took ${restartMs} ms: too slow for this test's grace period`);
      assert.equal(beat.nodeId, n1.nodeId);

      // Through the whole window in which the scanner would have claimed a dead node's
      // sessions (TTL + grace after the kill, plus several scans), nothing moves.
      const windowEnd = killedAt + timing.heartbeatTtlMs + timing.takeoverGracePeriodMs + 5 * timing.heartbeatIntervalMs;
      await holdsFor(
        () => sessionRecord(redis, sid),
        (r) => r?.nodeId === n1.nodeId && r.epoch === 0,
        Math.max(0, windowEnd - Date.now()),
        'the session staying with the restarted node at epoch 0',
      );
      assert.deepEqual(n2.logLines(/claimed an orphaned session/), [], 'node 2 claimed nothing');

      const router = createRouter(again);
      const { client } = await sdkClient(router, clients, { sessionId: sid, noGet: true });
      assert.deepEqual(await whoami(client), { nodeId: n1.nodeId, sessionId: sid });
      const rec = await sessionRecord(redis, sid);
      assert.equal(rec.nodeId, n1.nodeId);
      assert.equal(rec.epoch, 0);

      // Control: without the restart, node 2 does claim it (so the check above could fail).
      await killNode(again, 'SIGKILL');
      const claimed = await pollUntil(
        () => sessionRecord(redis, sid),
        (r) => r?.nodeId === n2.nodeId,
        timing.heartbeatTtlMs + timing.takeoverGracePeriodMs + WAIT_MS,
        'node 2 to claim the session once node 1 stays dead',
      );
      assert.equal(claimed.epoch, 1);
    });
  });

  it('fencing: a stalled owner (SIGSTOP) whose session was claimed stops serving its stream once resumed', async () => {
    await withCluster(2, FAST, async ({ redis, nodes: [n1, n2] }, clients) => {
      const router = createRouter(n1);
      const watcher = await sdkClient(router, clients, { noGet: true });
      const sid = watcher.transport.sessionId;
      await watcher.client.subscribeResource({ uri: WATCHED }, REQ);
      const stream = await openGet(n1, sid);
      assert.equal(stream.status, 200);
      try {
        n1.proc.kill('SIGSTOP');
        try {
          const rec = await pollUntil(() => sessionRecord(redis, sid), (r) => r?.nodeId === n2.nodeId, WAIT_MS, 'node 2 to claim the stalled node\'s session');
          assert.equal(rec.epoch, 1);
        } finally {
          n1.proc.kill('SIGCONT');
        }
        // The old owner learns it lost the session and ends the stream it held.
        await stream.events.waitEnd(WAIT_MS);
        assert.ok(!stream.events.all.some(isUpdate(WATCHED)), 'nothing was delivered on the stale stream');

        // It still serves the session's requests (as a replica), without taking it back.
        router.target = n1;
        assert.deepEqual(await whoami(watcher.client), { nodeId: n1.nodeId, sessionId: sid });
        await watcher.client.setLoggingLevel('warning', REQ);
        const after = await sessionRecord(redis, sid);
        assert.equal(after.nodeId, n2.nodeId, 'owner still node 2');
        assert.equal(after.epoch, 1, 'no further ownership change');
        assert.equal(after.state?.logLevel, 'warning', 'the replica\'s write went to the current record');
      } finally {
        stream.close();
      }
    });
  });

  it('two nodes race for one orphaned session: exactly one claim, epoch +1', async () => {
    await withCluster(3, FAST, async ({ redis, nodes: [n1, n2, n3] }, clients) => {
      const ids = [];
      for (let i = 0; i < 4; i++) {
        const s = await initSession(n1.url);
        ids.push(s.sessionId);
      }
      await killNode(n1, 'SIGKILL');
      for (const sid of ids) {
        await pollUntil(() => sessionRecord(redis, sid), (r) => r && r.nodeId !== n1.nodeId, WAIT_MS, `a claim of ${sid}`);
      }
      // A few more scans: nobody claims again.
      await holdsFor(
        () => Promise.all(ids.map((sid) => sessionRecord(redis, sid))),
        (recs) => recs.every((r) => r.epoch === 1 && r.reassignedFrom === n1.nodeId && [n2.nodeId, n3.nodeId].includes(r.nodeId)),
        5 * FAST.heartbeatIntervalMs,
        'exactly one claim per session',
      );
      for (const sid of ids) {
        const lines = [n2, n3].flatMap((n) => n.logLines(claimLine(sid, n1.nodeId, 1)));
        assert.equal(lines.length, 1, `one claim line for ${sid}: ${JSON.stringify(lines)}`);
      }
      // Every session is served on both nodes afterwards (owner or replica).
      for (const sid of ids) {
        for (const node of [n2, n3]) {
          const res = await mcpPost(node.url, rpc('tools/call', { name: 'whoami', arguments: {} }), { sessionId: sid, protocolVersion: LATEST_PROTOCOL_VERSION });
          assert.equal(res.status, 200, `${sid} on ${node.nodeId}: ${res.body}`);
        }
      }
      void clients;
    });
  });

  it('two nodes race on the request path for a dead owner\'s session: all requests served, one owner, epoch 1', async () => {
    await withCluster(3, { ...FAST, takeoverGracePeriodMs: 20_000 }, async ({ redis, nodes: [n1, n2, n3] }) => {
      const s = await initSession(n1.url);
      await killNode(n1, 'SIGKILL');
      await pollUntil(() => redis.exists(`${P}heartbeat:${n1.nodeId}`), (v) => v === false, WAIT_MS, 'the heartbeat to expire');
      const calls = [];
      for (let i = 0; i < 6; i++) {
        const node = i % 2 ? n3 : n2;
        calls.push(mcpPost(node.url, rpc('tools/call', { name: 'echo', arguments: { text: `r${i}` } }), { sessionId: s.sessionId, protocolVersion: s.protocolVersion }));
      }
      const results = await Promise.all(calls);
      results.forEach((r, i) => assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body}`));
      const rec = await sessionRecord(redis, s.sessionId);
      assert.ok([n2.nodeId, n3.nodeId].includes(rec.nodeId), rec.nodeId);
      assert.equal(rec.epoch, 1, 'one takeover');
      assert.equal(rec.reassignedFrom, n1.nodeId);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Heartbeat, graceful stop, configuration

describe('distributed mode: node lifecycle', () => {
  it('(j) the heartbeat key: content and TTL; SIGTERM deletes it, exits 0 and hands the sessions off at once', async (t) => {
    // A long TTL, so that deletion cannot be confused with expiry.
    const timing = { heartbeatIntervalMs: 200, heartbeatTtlMs: 5_000, takeoverGracePeriodMs: 200 };
    await withCluster(2, timing, async ({ redis, nodes: [n1, n2] }, clients) => {
      const key = `${P}heartbeat:${n1.nodeId}`;
      const hb = await readHeartbeat(redis, n1.nodeId);
      assert.ok(hb, `${key} exists`);
      assert.equal(hb.nodeId, n1.nodeId);
      assert.equal(typeof hb.startedAt, 'number');
      assert.equal(typeof hb.lastBeat, 'number');
      assert.ok(hb.startedAt <= hb.lastBeat + 1_000, JSON.stringify(hb));
      assert.ok(Math.abs((await redis.timeMs()) - hb.lastBeat) < 2_000, `lastBeat is recent: ${JSON.stringify(hb)}`);
      assert.equal(hb.sessionCount, 0);
      assert.equal(typeof hb.version, 'string');
      assert.ok(hb.version.length > 0);
      const pttl = await redis.pttl(key);
      assert.ok(pttl > 0 && pttl <= timing.heartbeatTtlMs, `PTTL ${pttl}`);
      assert.notEqual(await redis.zscore(`${P}nodes`, n1.nodeId), null, 'listed in the node index');
      // It is rewritten every interval.
      await pollUntil(() => readHeartbeat(redis, n1.nodeId), (v) => v && v.lastBeat > hb.lastBeat, WAIT_MS, 'a newer heartbeat');

      const { transport } = await sdkClient(createRouter(n1), clients, { noGet: true });
      const sid = transport.sessionId;
      await pollUntil(() => readHeartbeat(redis, n1.nodeId), (v) => v?.sessionCount === 1, WAIT_MS, 'sessionCount 1');
      assert.deepEqual(await redis.smembers(`${P}node:${n1.nodeId}:sessions`), [sid]);

      const t0 = Date.now();
      const exit = await killNode(n1, 'SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, 'graceful stop exits 0');
      assert.equal(await redis.exists(key), false, 'heartbeat deleted on SIGTERM (not left to expire)');
      const rec = await pollUntil(() => sessionRecord(redis, sid), (r) => r?.nodeId === n2.nodeId, timing.heartbeatTtlMs, 'node 2 to take the session');
      const moved = Date.now() - t0;
      t.diagnostic(`session moved ${moved} ms after SIGTERM`);
      assert.ok(moved < 2_000, `session moved ${moved} ms after SIGTERM (TTL is ${timing.heartbeatTtlMs} ms)`);
      assert.equal(rec.epoch, 1);
      assert.equal(rec.reassignedFrom, n1.nodeId);
    });
  });

  it('(k) distributed mode without --redis fails at start with HaConfigurationError and a hint', async () => {
    const flag = await runToExit(['--host', '127.0.0.1', '--port', '0', '--mode', 'distributed']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /HaConfigurationError/);
    assert.match(flag.stderr, /--redis/, 'says what to add');
    assert.doesNotMatch(flag.stdout, /listening/);

    const env = await runToExit(['--host', '127.0.0.1', '--port', '0'], { FRONTMCP_DEPLOYMENT_MODE: 'distributed' });
    assert.equal(env.code, 2, env.stderr);
    assert.match(env.stderr, /HaConfigurationError/);
    assert.match(env.stderr, /--redis/);
  });

  it('(k) a heartbeat TTL not greater than the interval is rejected with HaConfigurationError', async () => {
    for (const [interval, ttl] of [[100, 100], [200, 100]]) {
      const r = await runToExit([
        '--host', '127.0.0.1', '--port', '0', '--mode', 'distributed', '--redis', 'redis://127.0.0.1:1',
        '--heartbeat-interval-ms', String(interval), '--heartbeat-ttl-ms', String(ttl),
      ]);
      assert.equal(r.code, 2, `interval ${interval}, ttl ${ttl}: ${r.stderr}`);
      assert.match(r.stderr, /HaConfigurationError/);
      assert.match(r.stderr, /ttl/i, 'names the TTL');
      assert.doesNotMatch(r.stdout, /listening/);
    }
  });
});
