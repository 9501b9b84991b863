// The stateless generation (MCP 2026-07-28) in distributed mode (issue 13 item 5): a modern
// request reads or writes no session record and needs no owner, takeover or affinity.
//   (a) multi-round-trip requests whose rounds land on different nodes through round-robin
//       NGINX (the requestState is verified by whichever node gets the retry), and keep
//       working across a SIGKILL of a node; no session record appears in Redis;
//   (b) Redis stalled (SIGSTOP): a plain modern tools/call on every node still succeeds,
//       while the session generation's readiness turns 503;
//   (c) the conformance suite 0.2.x `--requirements 2026-07-28` through round-robin NGINX
//       in front of 3 nodes: every scored scenario passes (listen notifications cross
//       nodes through the relay);
//   (d) SDK v2 clients pinned to 2026-07-28 through that NGINX keep succeeding (MRTR
//       included) across a SIGKILL of a node and a Redis stall.
// Every wait has a deadline; nothing sleeps to synchronise. The one deliberate duration is
// the Redis stall in (b), which is the fault itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { NO_RATE_LIMITS, httpRequest, pollUntil, randomText, withTimeout } from './lib/harness.mjs';
import { NEXT_SUITE, judge, runSuite } from './lib/conformance.mjs';
import { startNginx } from './lib/nginx.mjs';
import { killNode, redisCommand, startCluster } from './lib/cluster.mjs';
import { modernCall } from './lib/modern.mjs';

// Shared by every node (docs/protocol.md "Multi-round-trip requests").
const SECRET = 'e2e-request-state-secret-0123456789abcdef';
const NODE_ENV = { FRONTMCP_REQUEST_STATE_SECRET: SECRET };
const ELICIT = { elicitation: {} };

/**
 * Three nodes behind round-robin NGINX (no affinity) for the enclosing describe block: the
 * hooks are registered here, and the returned object holds `cluster` and `nginx` once
 * `before` ran. `beforeClose(rr)` runs first in `after` (clients to close, Redis to resume).
 */
function roundRobinCluster({ beforeClose } = {}) {
  const rr = { cluster: undefined, nginx: undefined };
  before(async () => {
    rr.cluster = await startCluster(3, { env: NODE_ENV, args: [...NO_RATE_LIMITS] });
    rr.nginx = await startNginx(rr.cluster.nodes, { affinity: false });
  });
  after(async () => {
    await beforeClose?.(rr);
    await rr.nginx?.close();
    await rr.cluster?.close();
  });
  return rr;
}

async function echo(url, what) {
  const text = randomText('modern');
  const r = await modernCall(url, 'tools/call', { name: 'echo', arguments: { text } }, { timeoutMs: 5_000 });
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.body}`);
  assert.equal(r.message?.result?.resultType, 'complete', `${what}: ${r.body}`);
  assert.deepEqual(r.message.result.content, [{ type: 'text', text }], `${what}: ${r.body}`);
  assert.equal(r.headers['mcp-session-id'], undefined, `${what}: no session id`);
  assert.equal(r.headers['set-cookie'], undefined, `${what}: no affinity cookie`);
}

/** The two-round tool of the reference server, driven by hand: round 1, round 2, done. */
async function multiRound(url, onRound = async () => {}) {
  const name = 'test_input_required_result_multi_round';
  const r1 = await modernCall(url, 'tools/call', { name, arguments: {} }, { capabilities: ELICIT });
  assert.equal(r1.message?.result?.resultType, 'input_required', r1.body);
  await onRound(1);
  const accept = (field, value) => ({ action: 'accept', content: { [field]: value } });
  const r2 = await modernCall(
    url,
    'tools/call',
    { name, arguments: {}, inputResponses: { step1: accept('name', 'Alice') }, requestState: r1.message.result.requestState },
    { capabilities: ELICIT },
  );
  assert.equal(r2.message?.result?.resultType, 'input_required', r2.body);
  await onRound(2);
  const r3 = await modernCall(
    url,
    'tools/call',
    { name, arguments: {}, inputResponses: { step2: accept('color', 'blue') }, requestState: r2.message.result.requestState },
    { capabilities: ELICIT },
  );
  assert.equal(r3.message?.result?.resultType, 'complete', r3.body);
  assert.equal(r3.message.result.content[0].text, 'Multi-round complete for Alice who likes blue');
}

async function sessionKeys(redis) {
  const keys = await redisCommand(redis.port, ['KEYS', 'mcp:ha:session:*']);
  return Array.isArray(keys) ? keys : [];
}

describe('(a) multi-round-trip requests through round-robin NGINX, 3 nodes, no affinity', () => {
  const rr = roundRobinCluster();

  it('rounds verified by whichever node gets them; a node SIGKILLed between rounds changes nothing', async () => {
    // Three requests per flow on three round-robin nodes: every round meets another node.
    for (let i = 0; i < 3; i++) await multiRound(rr.nginx.url);
    let killed;
    await multiRound(rr.nginx.url, async (round) => {
      if (round === 1) {
        killed = rr.cluster.nodes[0];
        await killNode(killed, 'SIGKILL');
      }
    });
    for (let i = 0; i < 6; i++) await echo(rr.nginx.url, `echo ${i} after ${killed.nodeId} died`);
    assert.deepEqual(await sessionKeys(rr.cluster.redis), [], 'no session record for modern requests');
  });

  it('a retry with another node secret is refused, never a new round', async () => {
    const stranger = await rr.cluster.add({ nodeId: 'e2e-stranger', env: { FRONTMCP_REQUEST_STATE_SECRET: 'x'.repeat(40) } });
    const name = 'test_input_required_result_tampered_state';
    const r1 = await modernCall(rr.cluster.nodes[1].url, 'tools/call', { name, arguments: {} }, { capabilities: ELICIT });
    assert.equal(r1.message?.result?.resultType, 'input_required', r1.body);
    const retry = {
      name,
      arguments: {},
      inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
      requestState: r1.message.result.requestState,
    };
    const own = await modernCall(rr.cluster.nodes[2].url, 'tools/call', retry, { capabilities: ELICIT });
    assert.equal(own.message?.result?.content?.[0]?.text, 'integrity-ok: state verified', own.body);
    const other = await modernCall(stranger.url, 'tools/call', retry, { capabilities: ELICIT });
    assert.equal(other.status, 200, other.body);
    assert.equal(other.message?.error?.code, -32602, other.body);
  });
});

describe('(b) Redis stalled (SIGSTOP): a modern tools/call needs no Redis', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster(3, { env: NODE_ENV, args: [...NO_RATE_LIMITS] });
  });
  after(async () => {
    cluster?.redis.resume?.();
    await cluster?.close();
  });

  it('every node answers modern calls during the stall while /readyz is 503', async (t) => {
    for (const n of cluster.nodes) await echo(n.url, `before the stall on ${n.nodeId}`);
    const STALL_MS = 3_000; // the fault: longer than the Redis command timeout (2 s)
    await cluster.redis.pause();
    const stalledAt = Date.now();
    try {
      await pollUntil(
        () => Promise.all(cluster.nodes.map((n) => httpRequest(`${n.base}/readyz`, { timeoutMs: 2_000 }).catch(() => ({ status: 0 })))),
        (rs) => rs.every((r) => r.status === 503),
        STALL_MS - 500,
        'every /readyz to turn 503 while Redis is stopped',
      );
      let calls = 0;
      while (Date.now() - stalledAt < STALL_MS) {
        for (const n of cluster.nodes) {
          await echo(n.url, `during the stall on ${n.nodeId}`);
          calls++;
        }
        await multiRound(cluster.nodes[calls % 3].url);
      }
      t.diagnostic(`${calls} modern echo calls answered during a ${Date.now() - stalledAt} ms Redis stall`);
    } finally {
      await cluster.redis.resume();
    }
    for (const n of cluster.nodes) await echo(n.url, `after the stall on ${n.nodeId}`);
  });
});

// (c) ------------------------------------------------------------------------------------------

describe('(c) conformance 0.2.x --requirements 2026-07-28 through round-robin NGINX, 3 nodes', () => {
  const rr = roundRobinCluster();

  it('every scored scenario passes', async (t) => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-conformance-2026-lb-'));
    const { output } = await runSuite([NEXT_SUITE, 'server', '--url', rr.nginx.url, '--requirements', '2026-07-28', '-o', outDir], 120_000);
    const { scored } = judge('2026-07-28', outDir);
    const failing = scored.filter((v) => !v.ok);
    t.diagnostic(`2026-07-28 through NGINX (3 nodes, round robin): ${scored.length - failing.length} of ${scored.length} scored scenarios passed`);
    assert.deepEqual(
      failing.map((v) => `${v.scenario}: ${v.problems.join('; ')}`),
      [],
      `failing scored scenarios\n${output.slice(-4_000)}`,
    );
    fs.rmSync(outDir, { recursive: true, force: true });
  });
});

// (d) ------------------------------------------------------------------------------------------

/** An SDK v2 client pinned to 2026-07-28 that answers elicitations with { name: Alice }. */
async function pinnedClient(url, label) {
  const client = new Client(
    { name: `frontmcp-e2e-pinned-${label}`, version: '0.0.0' },
    { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: MODERN_VERSION } } },
  );
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Alice' } }));
  await withTimeout(client.connect(new StreamableHTTPClientTransport(new URL(url))), 10_000, `${label} to connect`);
  assert.equal(client.getNegotiatedProtocolVersion(), MODERN_VERSION, `${label} negotiated the stateless generation`);
  return client;
}

const MODERN_VERSION = '2026-07-28';
const REQ = { timeout: 10_000 };

async function pinnedRound(clients, what) {
  for (const [i, c] of clients.entries()) {
    const text = randomText(`pinned-${i}`);
    const echoed = await c.callTool({ name: 'echo', arguments: { text } }, REQ);
    assert.deepEqual(echoed.content, [{ type: 'text', text }], `${what}: client ${i} echo`);
    const hello = await c.callTool({ name: 'test_input_required_result_elicitation', arguments: {} }, REQ);
    assert.deepEqual(hello.content, [{ type: 'text', text: 'Hello, Alice!' }], `${what}: client ${i} MRTR`);
  }
}

describe('(d) pinned SDK v2 clients through round-robin NGINX across a SIGKILL and a Redis stall', () => {
  let clients = [];
  const rr = roundRobinCluster({
    beforeClose: async ({ cluster }) => {
      await Promise.all(clients.map((c) => withTimeout(c.close(), 5_000, 'client.close()').catch(() => {})));
      cluster?.redis.resume?.();
    },
  });

  it('every call succeeds before, after the SIGKILL of a node, and during a Redis stall', async () => {
    clients = await Promise.all([0, 1, 2].map((i) => pinnedClient(rr.nginx.url, `c${i}`)));
    await pinnedRound(clients, 'before');
    await killNode(rr.cluster.nodes[1], 'SIGKILL');
    for (let i = 0; i < 3; i++) await pinnedRound(clients, `after the SIGKILL (${i})`);
    await rr.cluster.redis.pause();
    try {
      for (let i = 0; i < 3; i++) await pinnedRound(clients, `during the Redis stall (${i})`);
    } finally {
      await rr.cluster.redis.resume();
    }
    await pinnedRound(clients, 'after the stall');
  });
});
