// A frontmcp cluster behind a real NGINX (deploy/nginx/frontmcp.conf) and a real
// redis-server: (a) the official conformance suite through round robin, (a2) the hand-off a
// round-robin GET stream causes while the old owner serves writes, (b) the official SDK
// client through cookie affinity while its node is SIGKILLed, (c) a rolling restart under
// load, (c2) SIGTERM under direct load, (d) Redis stalled and (e) restarted, (f) legacy SSE
// relayed between nodes, (g) nodes racing for orphans.
// docs: /work/shared/docs/ha-design.md (guarantees, failure matrix), docs/testing.md.
//
// Every wait has a deadline; nothing sleeps to synchronise. The one deliberate duration is
// the Redis stall in (d), which is the fault itself.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  httpRequest,
  initSession,
  initializeRequest,
  INITIALIZED,
  mcpPost,
  openSse,
  pollUntil,
  randomText,
  responseTo,
  rpc,
  withTimeout,
} from './lib/harness.mjs';
import { REQ, cookieJarFetch, textOf } from './lib/sdk.mjs';
import { runSuite } from './lib/conformance.mjs';
import {
  EXAMPLE_NODES,
  SHIPPED_CONFIG,
  nginxTest,
  nodeSectionOf,
  renderNodeSection,
  startNginx,
  writeConfig,
} from './lib/nginx.mjs';
import { FAST, killNode, sessionRecord, startCluster, startNode, startRedis } from './lib/cluster.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SUITE = path.join(here, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

const WAIT_MS = 5_000;
const PREFIX = 'mcp:ha:';
// Nodes run with lib/cluster.mjs's FAST timings: heartbeat every 100 ms, TTL 400 ms,
// takeover grace 200 ms; log level info.

// ---------------------------------------------------------------------------------------------
// Helpers

/** GET /readyz of a node: { status, body } (status 0 when the node cannot be reached). */
async function readyz(node, timeoutMs = 3_000) {
  try {
    const r = await httpRequest(`${node.base}/readyz`, { timeoutMs });
    let body;
    try {
      body = JSON.parse(r.body);
    } catch {
      body = r.body;
    }
    return { status: r.status, body };
  } catch (err) {
    return { status: 0, body: String(err.message) };
  }
}

function waitAllReady(nodes, ms = 10_000) {
  return Promise.all(
    nodes.map((n) => pollUntil(() => readyz(n), (r) => r.status === 200, ms, `/readyz of ${n.nodeId} to be 200`)),
  );
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function postTo(url, session, message, opts = {}) {
  return httpRequest(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'Mcp-Session-Id': session.sessionId,
      'MCP-Protocol-Version': session.protocolVersion,
    },
    body: JSON.stringify(message),
    timeoutMs: opts.timeoutMs,
  });
}

/** Asserts an echo on `node` for `session` succeeds with the text sent. */
async function assertEchoOn(node, session, what) {
  const text = randomText('echo');
  const msg = rpc('tools/call', { name: 'echo', arguments: { text } });
  const res = await postTo(node.url, session, msg, { timeoutMs: 10_000 });
  assert.equal(res.status, 200, `${what}: echo on ${node.nodeId}: HTTP ${res.status} ${res.body}\n${node.log().slice(-3000)}`);
  const reply = responseTo(res, msg.id);
  assert.deepEqual(reply?.result?.content, [{ type: 'text', text }], `${what}: echo reply on ${node.nodeId}: ${res.body}`);
  return res;
}

/**
 * The official SDK client with a cookie jar (the affinity cookie) and a log of every HTTP
 * exchange it makes: { client, transport, jar, exchanges, initializeCount(), close() }.
 */
async function connectSdk(url, { name = 'frontmcp-e2e-lb', onResponse } = {}) {
  const { fetch: trackingFetch, jar, exchanges } = cookieJarFetch({ onResponse });
  const client = new Client({ name, version: '0.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: trackingFetch,
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
  });
  const transportErrors = [];
  await withTimeout(client.connect(transport, REQ), 10_000, `SDK client to connect to ${url}`);
  transport.onerror = ((prev) => (err) => {
    transportErrors.push(String(err));
    prev?.(err);
  })(transport.onerror);
  return {
    client,
    transport,
    jar,
    exchanges,
    transportErrors,
    initializeCount: () => exchanges.filter((e) => e.rpc.includes('initialize')).length,
    close: () => withTimeout(client.close(), 5_000, 'client.close()').catch(() => {}),
  };
}

async function sdkEcho(c, timeout = REQ.timeout) {
  const text = randomText('sdk');
  const result = await c.client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout });
  assert.equal(textOf(result), text, `echo result ${JSON.stringify(result)}`);
}

// ---------------------------------------------------------------------------------------------

describe('deploy/nginx/frontmcp.conf', () => {
  it('its generated node section is what the test harness generates, and nginx -t accepts it', async () => {
    const text = fs.readFileSync(SHIPPED_CONFIG, 'utf8');
    assert.equal(
      nodeSectionOf(text),
      renderNodeSection(EXAMPLE_NODES, { affinity: true }),
      'regenerate the section of deploy/nginx/frontmcp.conf with renderNodeSection(EXAMPLE_NODES)',
    );
    for (const d of ['proxy_http_version 1.1;', 'proxy_buffering off;', 'proxy_read_timeout 1h;', 'proxy_next_upstream error timeout;', 'map $cookie___frontmcp_node $frontmcp_upstream']) {
      assert.ok(text.includes(d), `shipped config has "${d}"`);
    }
    const dir = writeConfig(text, 'frontmcp-nginx-t-');
    try {
      const r = await nginxTest(dir);
      assert.equal(r.code, 0, r.output);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// (a) ------------------------------------------------------------------------------------------

describe('(a) conformance suite through round-robin NGINX, 3 nodes, no affinity', () => {
  let cluster;
  let nginx;
  before(async () => {
    cluster = await startCluster(3, {});
    nginx = await startNginx(cluster.nodes, { affinity: false });
  });
  after(async () => {
    await nginx?.close();
    await cluster?.close();
  });

  it('every scenario passes', async (t) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-conformance-lb-'));
    const exit = await runSuite([SUITE, 'server', '--url', nginx.url, '--suite', 'all', '-o', outDir], 90_000);
    const { output } = exit;
    const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
    const summary = plain.includes('=== SUMMARY ===') ? plain.slice(plain.indexOf('=== SUMMARY ===')) : plain;
    const total = /Total: (\d+) passed, (\d+) failed/.exec(plain);
    assert.ok(total, `no "Total:" line (exit ${JSON.stringify(exit)}):\n${plain}`);
    const [passed, failed] = [Number(total[1]), Number(total[2])];
    t.diagnostic(`conformance through nginx (round robin, 3 nodes): ${total[0]}`);

    // Per-check results (WARNING counts as a failure, as in conformance.mjs).
    const bad = { FAILURE: [], WARNING: [] };
    for (const entry of fs.readdirSync(outDir, { recursive: true })) {
      if (!String(entry).endsWith('checks.json')) continue;
      const checks = JSON.parse(fs.readFileSync(path.join(outDir, String(entry)), 'utf8'));
      for (const c of Array.isArray(checks) ? checks : []) {
        bad[c.status]?.push(`${path.dirname(String(entry))}: ${c.id}: ${c.errorMessage ?? c.description}`);
      }
    }
    // Evidence that there was no affinity: the suite's requests reached every node.
    const perNode = {};
    for (const e of nginx.accessEntries()) if (e.node) perNode[e.node] = (perNode[e.node] ?? 0) + 1;
    t.diagnostic(`requests per node through nginx: ${JSON.stringify(perNode)}`);

    assert.equal(failed, 0, `${failed} failed checks (details in ${outDir}):\n  ${bad.FAILURE.join('\n  ')}\n${summary}\nnginx errors:\n${nginx.errorLog().slice(-3000)}`);
    assert.ok(passed > 0, plain);
    assert.deepEqual(bad.WARNING, [], `WARNING checks (details in ${outDir})`);
    assert.equal(exit.code, 0, `suite exit code\n${plain}`);
    assert.deepEqual(Object.keys(perNode).sort(), cluster.nodes.map((n) => n.nodeId).sort(), 'round robin reached all nodes');
    fs.rmSync(outDir, { recursive: true, force: true });
  });
});

// (a2) -----------------------------------------------------------------------------------------

describe('(a2) round robin puts the GET stream on another node: hand-off during writes on the owner', () => {
  let cluster;
  const streams = [];
  before(async () => {
    cluster = await startCluster(3, {});
  });
  after(async () => {
    for (const s of streams.splice(0)) s.close();
    await cluster?.close();
  });

  // What (a)'s resources-unsubscribe scenario runs into now and then behind round robin:
  // initialize on A, initialized on B, the SDK's GET stream on C (C asks A for the session), subscribe on A
  // while A hands the session over. The subscribe must succeed (re-read, apply, go on) and
  // stay in the session state; a conflict may only ever be a 503 + Retry-After.
  it('subscribes on the old owner during a hand-off all succeed and are kept', async (t) => {
    const [a, b, c] = cluster.nodes;
    const uri = 'test://watched-resource';
    const failures = [];
    const lostSubscriptions = [];
    const ROUNDS = 20;
    for (let round = 0; round < ROUNDS; round++) {
      // Round robin: initialize on A, notifications/initialized on B, GET stream on C.
      const init = initializeRequest();
      const r = await mcpPost(a.url, init);
      assert.equal(r.status, 200, r.body);
      const session = { sessionId: r.headers['mcp-session-id'], protocolVersion: responseTo(r, init.id).result.protocolVersion };
      const ack = await postTo(b.url, session, INITIALIZED);
      assert.equal(ack.status, 202, ack.body);
      const get = openSse(c.url, {
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      });
      const calls = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const msg = rpc('resources/subscribe', { uri });
          const res = await postTo(a.url, session, msg, { timeoutMs: 10_000 });
          return { res, reply: res.status === 200 ? responseTo(res, msg.id) : undefined };
        }),
      );
      streams.push(await get);
      for (const { res, reply } of calls) {
        if (!reply?.result) failures.push({ round, status: res.status, retryAfter: res.headers['retry-after'], body: res.body.slice(0, 220) });
      }
      const rec = await sessionRecord(cluster.redis, session.sessionId);
      // A subscribe that was answered with success must be in the session state.
      const acknowledged = calls.filter(({ reply }) => reply?.result).length;
      if (acknowledged > 0 && !rec?.state?.subscriptions?.includes(uri)) {
        lostSubscriptions.push({ round, acknowledged, nodeId: rec?.nodeId, epoch: rec?.epoch, subscriptions: rec?.state?.subscriptions });
      }
    }
    t.diagnostic(`${failures.length} of ${ROUNDS * 5} subscribes failed; ${lostSubscriptions.length} of ${ROUNDS} sessions lost an acknowledged subscription`);
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${ROUNDS * 5} subscribes failed (first 3 shown)`);
    assert.deepEqual(lostSubscriptions.slice(0, 3), [], `${lostSubscriptions.length} of ${ROUNDS} sessions lost an acknowledged subscription (first 3 shown)`);
  });
});

// (b) ------------------------------------------------------------------------------------------

describe('(b) SDK client through NGINX with cookie affinity; its node is SIGKILLed', () => {
  let cluster;
  let nginx;
  const clients = [];
  before(async () => {
    cluster = await startCluster(3, {});
    nginx = await startNginx(cluster.nodes, { affinity: true });
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.close();
    await nginx?.close();
    await cluster?.close();
  });

  it('the same session carries on on another node, no re-initialize, and the cookie re-pins', async (t) => {
    const c = await connectSdk(nginx.url);
    clients.push(c);
    const sid = c.transport.sessionId;
    const pinned = c.jar.get('__frontmcp_node');
    const ids = cluster.nodes.map((n) => n.nodeId);
    assert.ok(ids.includes(pinned), `cookie __frontmcp_node=${pinned} names a node (${ids.join(', ')})`);
    const init = c.exchanges.find((e) => e.rpc.includes('initialize'));
    assert.equal(init.node, pinned, 'the initialize response came from the node named in its cookie');

    for (let i = 0; i < 5; i++) await sdkEcho(c);
    const before = c.exchanges.filter((e) => e.method === 'POST' && e.rpc.includes('tools/call'));
    assert.ok(before.every((e) => e.node === pinned), `with the cookie, every call went to ${pinned}: ${JSON.stringify(before.map((e) => e.node))}`);

    const victim = cluster.nodes.find((n) => n.nodeId === pinned);
    await killNode(victim, 'SIGKILL');
    const t0 = Date.now();
    // The next call must succeed (the SDK may retry on its own); bounded.
    await withTimeout(sdkEcho(c), 5_000, 'the first call after SIGKILL of the pinned node');
    const firstMs = Date.now() - t0;
    const first = c.exchanges.filter((e) => e.rpc.includes('tools/call')).at(-1);
    t.diagnostic(`first call after SIGKILL of ${pinned}: ${firstMs} ms, served by ${first.node}`);
    assert.notEqual(first.node, pinned);
    assert.equal(c.transport.sessionId, sid, 'same session id');
    assert.equal(c.initializeCount(), 1, 'no re-initialize');

    // The node that claims the session re-pins the client (Set-Cookie on its first response).
    const survivors = ids.filter((id) => id !== pinned);
    await pollUntil(
      async () => {
        await sdkEcho(c);
        return c.jar.get('__frontmcp_node');
      },
      (cookie) => survivors.includes(cookie),
      WAIT_MS,
      'the affinity cookie to name a surviving node',
    );
    const repinned = c.jar.get('__frontmcp_node');
    for (let i = 0; i < 5; i++) await sdkEcho(c);
    const last = c.exchanges.filter((e) => e.rpc.includes('tools/call')).slice(-5);
    assert.ok(last.every((e) => e.node === repinned), `after re-pinning every call goes to ${repinned}: ${JSON.stringify(last.map((e) => e.node))}`);
    const rec = await sessionRecord(cluster.redis, sid);
    assert.equal(rec.nodeId, repinned, `the record names the new owner: ${JSON.stringify(rec)}`);
    assert.equal(rec.reassignedFrom, pinned);
    assert.equal(c.transport.sessionId, sid, 'same session id');
    assert.equal(c.initializeCount(), 1, 'no re-initialize');
    const failedPosts = c.exchanges.filter((e) => e.method === 'POST' && e.status !== 200 && e.status !== 202);
    assert.deepEqual(failedPosts, [], 'no failed POST');
    t.diagnostic(`re-pinned to ${repinned}; record ${JSON.stringify({ nodeId: rec.nodeId, epoch: rec.epoch, reassignedFrom: rec.reassignedFrom })}`);
  });
});

// (c) ------------------------------------------------------------------------------------------

describe('(c) rolling restart of 3 nodes through round-robin NGINX under load', () => {
  let cluster;
  let nginx;
  const clients = [];
  before(async () => {
    cluster = await startCluster(3, {});
    nginx = await startNginx(cluster.nodes, { affinity: false });
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.close();
    await nginx?.close();
    await cluster?.close();
  });

  it('each node in turn: SIGTERM, exit 0, start again with the same id and port; no request fails', async (t) => {
    const CLIENTS = 8;
    const servedBy = new Map(); // nodeId -> calls answered through nginx
    const onResponse = (e) => {
      if (e.rpc.includes('tools/call') && e.status === 200 && e.node) servedBy.set(e.node, (servedBy.get(e.node) ?? 0) + 1);
    };
    for (let i = 0; i < CLIENTS; i++) {
      const c = await connectSdk(nginx.url, { name: `lb-load-${i}`, onResponse });
      clients.push(c);
      // Connecting takes 3 requests (initialize, initialized, GET stream); one more call
      // shifts the next client's GET stream (and so its session's owner) to another node.
      await sdkEcho(c);
    }
    const sessionIds = clients.map((c) => c.transport.sessionId);

    let stop = false;
    let ok = 0;
    const failures = [];
    const loops = clients.map(async (c, i) => {
      while (!stop) {
        try {
          await sdkEcho(c);
          ok += 1;
        } catch (err) {
          failures.push({ client: i, at: Date.now(), error: String(err) });
        }
      }
    });

    const restarts = [];
    try {
      // Load is flowing before the first restart.
      await pollUntil(async () => ok, (n) => n >= 50, 10_000, '50 calls before the first restart');
      for (let i = 0; i < cluster.nodes.length; i++) {
        const old = cluster.nodes[i];
        const { nodeId, port } = old;
        const okBefore = ok;
        const owned = (await Promise.all(sessionIds.map((sid) => sessionRecord(cluster.redis, sid)))).filter((r) => r?.nodeId === nodeId).length;
        const t0 = Date.now();
        const exit = await killNode(old, 'SIGTERM');
        const exitMs = Date.now() - t0;
        assert.equal(exit.code, 0, `${nodeId} exit after SIGTERM: ${JSON.stringify(exit)}\n${old.log().slice(-3000)}`);
        // Its sessions move at once (it marked itself dead on the way out): no TTL wait.
        await pollUntil(
          () => Promise.all(sessionIds.map((sid) => sessionRecord(cluster.redis, sid))),
          (recs) => recs.every((r) => r && r.nodeId !== nodeId),
          5_000,
          `the sessions of ${nodeId} to be claimed after its exit`,
        );
        const movedMs = Date.now() - t0 - exitMs;
        assert.ok(movedMs < FAST.heartbeatTtlMs, `sessions of ${nodeId} claimed ${movedMs} ms after its exit: not faster than the heartbeat TTL (${FAST.heartbeatTtlMs} ms)`);
        const fresh = await cluster.add({ nodeId, port });
        cluster.nodes[i] = fresh;
        assert.equal(fresh.port, port, 'restarted on the same port');
        await waitAllReady([fresh]);
        // Back in rotation: nginx routes calls to it again (it skips a node for
        // fail_timeout=2s after a refused connection).
        const servedAtStart = servedBy.get(nodeId) ?? 0;
        await pollUntil(async () => servedBy.get(nodeId) ?? 0, (n) => n > servedAtStart, 10_000, `nginx to send calls to the restarted ${nodeId}`);
        restarts.push({ nodeId, owned, exitMs, movedMs, callsDuring: ok - okBefore, totalMs: Date.now() - t0 });
      }
      const okAfter = ok;
      await pollUntil(async () => ok, (n) => n >= okAfter + 20, 10_000, 'more calls after the last restart');
    } finally {
      stop = true;
      await withTimeout(Promise.all(loops), 15_000, 'the load loops to stop');
    }

    t.diagnostic(`calls ok: ${ok}, failed: ${failures.length}; restarts: ${JSON.stringify(restarts)}`);
    t.diagnostic(`calls per node: ${JSON.stringify(Object.fromEntries(servedBy))}`);
    const posts5xx = nginx.accessEntries().filter((e) => /^POST /.test(e.request ?? '') && e.status >= 500);
    const gets = nginx.accessEntries().filter((e) => /^GET /.test(e.request ?? ''));
    t.diagnostic(`GET streams through nginx: ${gets.length} (statuses ${JSON.stringify(gets.map((g) => g.status))}); transport errors: ${JSON.stringify(clients.map((c) => c.transportErrors.length))}`);
    assert.deepEqual(failures, [], `failed calls; nginx 5xx POSTs:\n${posts5xx.map((e) => e.line).join('\n')}\nnginx error log:\n${nginx.errorLog().slice(-4000)}`);
    assert.deepEqual(posts5xx.map((e) => e.line), [], 'no POST answered 5xx by nginx');
    assert.deepEqual(clients.map((c) => c.transport.sessionId), sessionIds, 'every client kept its session');
    assert.deepEqual(clients.map((c) => c.initializeCount()), clients.map(() => 1), 'no re-initialize');
    for (const n of cluster.nodes) assert.ok(n.alive(), `${n.nodeId} alive`);
  });
});

// (c2) -----------------------------------------------------------------------------------------

describe('(c2) SIGTERM under direct load: a request on a connection the node accepted is answered', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster(1, {});
  });
  after(async () => {
    await cluster?.close();
  });

  // What NGINX relies on in (c): a draining node either refuses the connection (nginx then
  // tries the next node) or answers the request. A connection reset after the request was
  // sent is a 502 that nginx must not retry (POST is not idempotent). (c) hits this window
  // only now and then; eight clients on fresh connections straight at the node hit it often.
  it('5 nodes in turn: SIGTERM while 8 clients send echo on fresh connections; refused or 200, never reset', async (t) => {
    const [home] = cluster.nodes;
    const session = await initSession(home.url);
    const totals = {};
    const lost = [];
    for (let round = 0; round < 5; round++) {
      const node = await cluster.add({ nodeId: `drain-${round}` });
      let stop = false;
      let answered = 0;
      const loops = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const msg = rpc('tools/call', { name: 'echo', arguments: { text: 'drain' } });
          try {
            const res = await postTo(node.url, session, msg, { timeoutMs: 5_000 });
            totals[res.status] = (totals[res.status] ?? 0) + 1;
            if (res.status === 200) answered += 1;
            else lost.push({ round, status: res.status, body: res.body.slice(0, 200) });
          } catch (err) {
            const code = err.code ?? err.message;
            totals[code] = (totals[code] ?? 0) + 1;
            if (code === 'ECONNREFUSED') {
              if (!node.alive()) break; // it is gone: the load has done its job
              continue;
            }
            lost.push({ round, error: code });
          }
        }
      });
      try {
        await pollUntil(async () => answered, (n) => n >= 100, 10_000, `100 calls on ${node.nodeId} before SIGTERM`);
        const exit = await killNode(node, 'SIGTERM');
        assert.equal(exit.code, 0, `${node.nodeId} exit after SIGTERM: ${JSON.stringify(exit)}`);
      } finally {
        stop = true;
        await withTimeout(Promise.all(loops), 15_000, 'the load loops to stop');
      }
    }
    t.diagnostic(`outcomes over 5 SIGTERMs: ${JSON.stringify(totals)}`);
    const perRound = {};
    for (const l of lost) perRound[l.round] = [...(perRound[l.round] ?? []), l.error ?? l.status];
    assert.equal(lost.length, 0, `${lost.length} requests were neither refused nor answered 200 (a reset after the request was sent): per SIGTERM ${JSON.stringify(perRound)}; all outcomes ${JSON.stringify(totals)}`);
  });
});

// (d) ------------------------------------------------------------------------------------------

describe('(d) Redis stalled (SIGSTOP) then resumed', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster(3, {});
  });
  after(async () => {
    cluster?.redis.resume?.();
    await cluster?.close();
  });

  it('readiness turns 503 during the stall, requests fail fast or succeed, everything recovers', async (t) => {
    const [n1, n2, n3] = cluster.nodes;
    const session = await initSession(n1.url);
    await assertEchoOn(n1, session, 'before the stall');
    await assertEchoOn(n2, session, 'before the stall');

    const STALL_MS = 2_500; // the fault: a bit longer than the Redis command timeout (2 s)
    await cluster.redis.pause();
    const stalledAt = Date.now();
    const during = [];
    let readiness;
    try {
      readiness = await pollUntil(
        () => Promise.all(cluster.nodes.map((n) => readyz(n))),
        (rs) => rs.every((r) => r.status === 503),
        STALL_MS - 500,
        'every /readyz to turn 503 while Redis is stopped',
      );
      const readyAfterMs = Date.now() - stalledAt;
      t.diagnostic(`all /readyz 503 after ${readyAfterMs} ms of stall: ${JSON.stringify(readiness.map((r) => r.body))}`);
      // Requests while Redis is stopped: answered (from a valid lease) or 503 + Retry-After,
      // never hanging past the command timeout.
      const results = await Promise.all(
        cluster.nodes.map(async (n) => {
          const text = randomText('stall');
          const msg = rpc('tools/call', { name: 'echo', arguments: { text } });
          const t0 = Date.now();
          const res = await postTo(n.url, session, msg, { timeoutMs: 4_000 });
          return { node: n.nodeId, status: res.status, retryAfter: res.headers['retry-after'], ms: Date.now() - t0, body: res.body.slice(0, 200) };
        }),
      );
      during.push(...results);
      // The fault lasts STALL_MS in total (a deliberate duration, not synchronisation).
      const left = STALL_MS - (Date.now() - stalledAt);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    } finally {
      await cluster.redis.resume();
    }
    const stallMs = Date.now() - stalledAt;
    t.diagnostic(`stall ${stallMs} ms; requests during it: ${JSON.stringify(during)}`);
    for (const r of during) {
      assert.ok(r.status === 200 || r.status === 503, `during the stall ${r.node} answered ${r.status}: ${r.body}`);
      if (r.status === 503) assert.ok(r.retryAfter, `503 from ${r.node} has Retry-After`);
      assert.ok(r.ms <= 2_000 + 500, `${r.node} answered within the command timeout (took ${r.ms} ms)`);
    }

    await waitAllReady(cluster.nodes);
    for (const n of cluster.nodes) assert.ok(n.alive(), `${n.nodeId} survived the stall`);
    for (const n of [n1, n2, n3]) await assertEchoOn(n, session, 'after the stall');
    const rec = await sessionRecord(cluster.redis, session.sessionId);
    assert.ok(rec && cluster.nodes.some((n) => n.nodeId === rec.nodeId), `record owner is a node: ${JSON.stringify(rec)}`);
    t.diagnostic(`record after the stall: ${JSON.stringify({ nodeId: rec.nodeId, epoch: rec.epoch, reassignedFrom: rec.reassignedFrom })}`);
  });
});

// (e) ------------------------------------------------------------------------------------------

describe('(e) Redis restarted with its data lost', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster(3, {});
  });
  after(async () => {
    await cluster?.close();
  });

  it('nodes recover by themselves, heartbeats come back, the owner re-writes the session record', async (t) => {
    const [n1] = cluster.nodes;
    const session = await initSession(n1.url);
    for (const n of cluster.nodes) await assertEchoOn(n, session, 'before the restart');
    const before = await sessionRecord(cluster.redis, session.sessionId);
    assert.equal(before.nodeId, n1.nodeId);

    await cluster.redis.command('SET', 'e2e:marker', 'before the restart');
    await cluster.redis.stop();
    const t0 = Date.now();
    await cluster.redis.restart();
    assert.equal(await cluster.redis.get('e2e:marker'), null, 'the restarted Redis lost its data');

    const heartbeats = await pollUntil(
      () => Promise.all(cluster.nodes.map((n) => cluster.redis.exists(`${PREFIX}heartbeat:${n.nodeId}`))),
      (xs) => xs.every(Boolean),
      10_000,
      'every heartbeat key to exist again',
    );
    assert.ok(heartbeats);
    const rec = await pollUntil(() => sessionRecord(cluster.redis, session.sessionId), (r) => r !== null, 10_000, 'the owner to re-write the session record');
    t.diagnostic(`heartbeats and record back ${Date.now() - t0} ms after the restart; record ${JSON.stringify({ nodeId: rec.nodeId, epoch: rec.epoch })}`);
    assert.equal(rec.nodeId, n1.nodeId, 'the owner re-wrote its record');
    assert.equal(rec.epoch, before.epoch, 'same epoch');
    await waitAllReady(cluster.nodes);
    for (const n of cluster.nodes) assert.ok(n.alive(), `${n.nodeId} survived the restart`);
    for (const n of cluster.nodes) await assertEchoOn(n, session, 'after the restart');
  });
});

// (f) ------------------------------------------------------------------------------------------

describe('(f) legacy HTTP+SSE across nodes', () => {
  let cluster;
  const streams = [];
  before(async () => {
    cluster = await startCluster(3, {});
  });
  after(async () => {
    for (const s of streams.splice(0)) s.close();
    await cluster?.close();
  });

  it('POST /message on another node answers 202 and the response arrives on the /sse stream', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const stream = await openSse(`${n1.base}/sse`, { headers: { Accept: 'text/event-stream' } });
    streams.push(stream);
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['x-frontmcp-machine-id'], n1.nodeId);
    const cookies = [].concat(stream.headers['set-cookie'] ?? []);
    assert.ok(cookies.some((c) => c.startsWith(`__frontmcp_node=${n1.nodeId};`)), `affinity cookie on GET /sse: ${cookies}`);
    const endpoint = (await stream.events.next(WAIT_MS, 'the endpoint event')).data;
    assert.match(endpoint, /^\/message\?sessionId=/);
    const headers = { 'Content-Type': 'application/json' };

    const post = async (node, body) => {
      const r = await httpRequest(new URL(endpoint, node.base).href, { method: 'POST', headers, body });
      assert.equal(r.status, 202, `POST ${endpoint} on ${node.nodeId}: ${r.status} ${r.body}`);
      assert.equal(r.headers['x-frontmcp-machine-id'], node.nodeId, 'the receiving node replied');
      return r;
    };

    const init = initializeRequest({ protocolVersion: '2024-11-05' });
    await post(n2, init);
    const initAnswer = await stream.events.nextMatching((e) => e.json?.id === init.id, WAIT_MS, 'the initialize answer on node 1');
    assert.equal(initAnswer.json.result.protocolVersion, '2024-11-05');
    await post(n2, INITIALIZED);

    for (const node of [n2, n3, n1, n2]) {
      const text = randomText(`legacy-${node.nodeId}`);
      const call = rpc('tools/call', { name: 'echo', arguments: { text } });
      await post(node, call);
      const answer = await stream.events.nextMatching((e) => e.json?.id === call.id, WAIT_MS, `the echo answer (POST on ${node.nodeId})`);
      assert.deepEqual(answer.json.result.content, [{ type: 'text', text }]);
    }
  });
});

// (g) ------------------------------------------------------------------------------------------

describe('(g) two nodes racing for orphaned sessions', () => {
  let redis;
  const survivors = [];
  const victims = [];
  before(async () => {
    redis = await startRedis();
    for (const nodeId of ['race-a', 'race-b']) survivors.push(await startNode(redis, { nodeId }));
  });
  after(async () => {
    for (const n of [...survivors, ...victims]) await killNode(n, 'SIGKILL').catch(() => {});
    await redis?.close();
  });

  it('20 rounds of 5 sessions on a node that is SIGKILLed: each claimed exactly once, epoch 1', async (t) => {
    const ROUNDS = 20;
    const PER_ROUND = 5;
    const survivorIds = survivors.map((n) => n.nodeId);
    const owners = []; // { sid, victim }
    const claimMs = [];
    for (let round = 0; round < ROUNDS; round++) {
      const victimId = `orphan-${round}`;
      const victim = await startNode(redis, { nodeId: victimId });
      victims.push(victim);
      const sids = [];
      for (let i = 0; i < PER_ROUND; i++) sids.push((await initSession(victim.url)).sessionId);
      for (const sid of sids) assert.equal((await sessionRecord(redis, sid)).nodeId, victimId);
      await killNode(victim, 'SIGKILL');
      const t0 = Date.now();
      await pollUntil(
        () => Promise.all(sids.map((sid) => sessionRecord(redis, sid))),
        (recs) => recs.every((r) => survivorIds.includes(r?.nodeId)),
        5_000,
        `round ${round}: all ${PER_ROUND} sessions of ${victimId} claimed`,
      );
      claimMs.push(Date.now() - t0);
      for (const sid of sids) owners.push({ sid, victim: victimId });
    }

    const wins = Object.fromEntries(survivorIds.map((id) => [id, 0]));
    for (const { sid, victim } of owners) {
      const rec = await sessionRecord(redis, sid);
      assert.equal(rec.epoch, 1, `session ${sid}: epoch ${rec.epoch} (${JSON.stringify(rec)})`);
      assert.ok(survivorIds.includes(rec.nodeId), `session ${sid} owned by a survivor: ${rec.nodeId}`);
      assert.equal(rec.reassignedFrom, victim, `session ${sid} reassignedFrom`);
      wins[rec.nodeId] += 1;
      const claims = survivors.map((n) => n.logLines(new RegExp(`claimed an orphaned session \\(scanner\\) session=${escapeRe(sid)} `)).length);
      const takeovers = survivors.map((n) => n.logLines(new RegExp(`took over a session from a dead node \\(request path\\) session=${escapeRe(sid)} `)).length);
      assert.deepEqual(takeovers, [0, 0], `no request-path takeover of ${sid}`);
      assert.equal(claims[0] + claims[1], 1, `session ${sid} claimed exactly once across both logs (${JSON.stringify(claims)})`);
      const claimer = survivorIds[claims.indexOf(1)];
      assert.equal(claimer, rec.nodeId, `the node that logged the claim of ${sid} owns it`);
    }
    for (const n of survivors) assert.ok(n.alive(), `${n.nodeId} alive`);
    claimMs.sort((a, b) => a - b);
    t.diagnostic(`${owners.length} sessions; claims per survivor ${JSON.stringify(wins)}; time from SIGKILL to all claimed: median ${claimMs[claimMs.length >> 1]} ms, max ${claimMs.at(-1)} ms`);
  });
});
