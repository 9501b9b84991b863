// Issue 11, items 5 and 9, end to end with real processes and a real redis-server:
// - numbers JSON cannot spell (1e400) are refused on input and never go out as `Infinity`;
//   a session record in Redis that does not parse no longer takes its session down (503
//   forever): it is removed, counted, and the client hears 404 and initializes again;
// - a session belongs to the principal that created it (docs/ha-design.md guarantee 13): the
//   same session id with another principal's token is an unknown session (404) on every node
//   and every transport, logged and counted, while its owner keeps being served.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  INITIALIZED,
  LATEST_PROTOCOL_VERSION,
  httpRequest,
  initSession,
  initializeRequest,
  mcpPost,
  openSse,
  pollUntil,
  responseTo,
  rpc,
  startServer,
} from './lib/harness.mjs';
import { DEFAULT_PREFIX, sessionRecord, withCluster } from './lib/cluster.mjs';
import { parsePrometheus } from './lib/prometheus.mjs';

const WAIT_MS = 5_000;
const P = DEFAULT_PREFIX;

function assertRpcError(res, status, code) {
  assert.equal(res.status, status, `HTTP status; body: ${res.body}`);
  const body = JSON.parse(res.body);
  assert.equal(body.error?.code, code, `JSON-RPC error code in ${res.body}`);
}

function tmpFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-e2e-binding-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

async function metric(base, name) {
  const r = await httpRequest(`${base}/metrics`, { timeoutMs: 3_000 });
  assert.equal(r.status, 200);
  return parsePrometheus(r.body).value(name) ?? 0;
}

async function metricSum(nodes, name) {
  let sum = 0;
  for (const n of nodes) sum += await metric(n.base, name);
  return sum;
}

/** A raw initialize with `body` as text (numbers JavaScript cannot write, like 1e400). */
const initializeText = (capabilitiesJson) =>
  `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"${LATEST_PROTOCOL_VERSION}",` +
  `"capabilities":${capabilitiesJson},"clientInfo":{"name":"e2e","version":"0"}}}`;

// ---------------------------------------------------------------------------------------------

describe('numbers out of range (standalone)', () => {
  let server;
  before(async () => {
    server = await startServer(['--log-level', 'warn']);
  });
  after(async () => {
    await server?.stop();
  });

  it('progressToken 1e400 → 400 / -32700; nothing with Infinity goes out; the session goes on', async () => {
    const s = await initSession(server.url);
    const body =
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},' +
      '"_meta":{"progressToken":1e400}}}';
    const res = await s.post(body, { timeoutMs: 15_000 });
    assert.doesNotMatch(res.body, /Infinity|NaN/, 'a non-finite number on the wire');
    assertRpcError(res, 400, -32700);
    assert.match(JSON.parse(res.body).error.message, /out of range/);
    const ping = await s.request('ping');
    assert.deepEqual(ping.result, {});
  });

  it('-1e400 and a 400-digit integer anywhere in a message are refused the same way', async () => {
    const s = await initSession(server.url);
    for (const n of ['-1e400', '9'.repeat(400)]) {
      const res = await s.post(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","n":[${n}]}}}`);
      assertRpcError(res, 400, -32700);
    }
  });

  it('initialize with capabilities {"x":1e400} → 400 / -32700 and no session', async () => {
    const res = await mcpPost(server.url, initializeText('{"x":1e400}'));
    assertRpcError(res, 400, -32700);
    assert.equal(res.headers['mcp-session-id'], undefined);
  });
});

describe('distributed: records that do not parse', () => {
  it('capabilities {"x":1e400} never reach Redis; a session made on node 1 is served on node 2', async () => {
    await withCluster(2, {}, async ({ nodes: [n1, n2] }) => {
      const res = await mcpPost(n1.url, initializeText('{"x":1e400}'));
      // Old code: 200, the record held `Infinity`, and node 2 answered 503 "corrupt session
      // record" for this session forever.
      assertRpcError(res, 400, -32700);
      const s = await initSession(n1.url, { capabilities: { x: 1e300 } });
      const onN2 = await mcpPost(n2.url, rpc('ping'), { sessionId: s.sessionId, protocolVersion: s.protocolVersion });
      assert.equal(onN2.status, 200, onN2.body);
    });
  });

  for (const [how, corrupt] of [
    ['its state overwritten with garbage (HSET)', (redis, key) => redis.command('HSET', key, 'state', 'garbage{')],
    ['the key replaced by a string (SET)', (redis, key) => redis.command('SET', key, 'garbage')],
  ]) {
    it(`a record with ${how}: 404 on every node (not 503), removed, counted; a new session works`, async () => {
      await withCluster(2, {}, async ({ redis, nodes }) => {
        const [n1, n2] = nodes;
        const s = await initSession(n1.url);
        const key = `${P}session:${s.sessionId}`;
        await corrupt(redis, key);
        const opts = { sessionId: s.sessionId, protocolVersion: s.protocolVersion };
        // Node 2 (a replica) reads the record first and removes it.
        assertRpcError(await mcpPost(n2.url, rpc('ping'), opts), 404, -32001);
        // Node 1, the owner, was told to drop it (HSET: the record names it), or finds the
        // record gone at its next revalidation, within kRevalidateInterval (SET: no owner to tell).
        const last = await pollUntil(
          () => mcpPost(n1.url, rpc('ping'), opts),
          (r) => r.status !== 200,
          WAIT_MS,
          'the owner to stop serving the session',
        );
        assertRpcError(last, 404, -32001);
        assert.equal(await redis.exists(key), false, 'the bad record is removed');
        assert.equal(await metricSum(nodes, 'frontmcp_session_records_corrupt_total'), 1);
        await n2.waitForLog(/session record does not parse/, WAIT_MS);
        const again = await initSession(n2.url);
        const onN1 = await mcpPost(n1.url, rpc('ping'), { sessionId: again.sessionId, protocolVersion: again.protocolVersion });
        assert.equal(onN1.status, 200, onN1.body);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('distributed: a session belongs to its principal (two tokens, two nodes)', () => {
  const ALICE = `tok-a-${Math.random().toString(36).slice(2)}`;
  const BOB = `tok-b-${Math.random().toString(36).slice(2)}`;
  const tokenFile = () => tmpFile('tokens', `# token principal\n${ALICE} alice\n${BOB} bob\n`);
  const auth = (token) => ({ Authorization: `Bearer ${token}` });

  it("A's session with B's token is 404 on every node and transport; A keeps being served", async () => {
    await withCluster(2, { args: ['--auth-token-file', tokenFile()] }, async ({ redis, nodes }) => {
      const [n1, n2] = nodes;
      // A: a Streamable HTTP session on node 1.
      const init = initializeRequest();
      const res = await mcpPost(n1.url, init, { headers: auth(ALICE) });
      assert.equal(res.status, 200, res.body);
      const sid = res.headers['mcp-session-id'];
      const pv = responseTo(res, init.id).result.protocolVersion;
      const asA = { sessionId: sid, protocolVersion: pv, headers: auth(ALICE) };
      const asB = { sessionId: sid, protocolVersion: pv, headers: auth(BOB) };
      assert.equal((await mcpPost(n1.url, INITIALIZED, asA)).status, 202);
      assert.equal((await sessionRecord(redis, sid)).state.principal, 'alice', 'the principal is in the record');

      let refused = 0;
      for (const node of [n1, n2]) {
        assertRpcError(await mcpPost(node.url, rpc('ping'), asB), 404, -32001);
        const get = await openSse(node.url, {
          headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': pv, ...auth(BOB) },
        });
        get.close();
        assert.equal(get.status, 404, `GET /mcp with B's token on ${node.nodeId}`);
        const del = await httpRequest(node.url, {
          method: 'DELETE',
          headers: { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': pv, ...auth(BOB) },
        });
        assertRpcError(del, 404, -32001);
        refused += 3;
      }

      // A: a legacy HTTP+SSE session on node 1; B posts to its /message on both nodes.
      const sse = await openSse(`${n1.base}/sse`, { headers: { Accept: 'text/event-stream', ...auth(ALICE) } });
      assert.equal(sse.status, 200);
      try {
        const endpoint = await sse.events.nextMatching((e) => e.event === 'endpoint', WAIT_MS, 'the endpoint event');
        const legacySid = new URL(endpoint.data, n1.base).searchParams.get('sessionId');
        const legacyPost = (node, token, message) =>
          httpRequest(`${node.base}/message?sessionId=${legacySid}`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...auth(token) },
            body: JSON.stringify(message),
          });
        for (const node of [n1, n2]) {
          assertRpcError(await legacyPost(node, BOB, rpc('ping')), 404, -32001);
          refused += 1;
        }
        // A's own messages still arrive, from either node.
        const legacyInit = initializeRequest({ protocolVersion: '2024-11-05' });
        assert.equal((await legacyPost(n2, ALICE, legacyInit)).status, 202);
        const answer = await sse.events.nextMatching((e) => e.json?.id === legacyInit.id, WAIT_MS, 'the initialize answer');
        assert.ok(answer.json.result, answer.data);
      } finally {
        sse.close();
      }

      // A is served on both nodes, and the session still exists for A.
      for (const node of [n1, n2]) {
        const r = await mcpPost(node.url, rpc('ping'), asA);
        assert.equal(r.status, 200, `A on ${node.nodeId}: ${r.body}`);
      }
      assert.equal(await metricSum(nodes, 'frontmcp_session_principal_mismatch_total'), refused);
      await pollUntil(
        () => n1.log() + n2.log(),
        (t) => /request for a session of another principal/.test(t),
        WAIT_MS,
        'the warning about another principal',
      );
      // B may not end it either: A's DELETE does.
      const del = await httpRequest(n2.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': pv, ...auth(ALICE) } });
      assert.equal(del.status, 200, del.body);
      assertRpcError(await mcpPost(n1.url, rpc('ping'), asA), 404, -32001);
    });
  });

  it('B cannot even learn that the id exists: initialize with it makes a new session for B', async () => {
    await withCluster(1, { args: ['--auth-token-file', tokenFile()] }, async ({ nodes: [n1] }) => {
      const a = await mcpPost(n1.url, initializeRequest(), { headers: auth(ALICE) });
      const sid = a.headers['mcp-session-id'];
      const b = await mcpPost(n1.url, initializeRequest(), { sessionId: sid, headers: auth(BOB) });
      assert.equal(b.status, 200, b.body);
      assert.notEqual(b.headers['mcp-session-id'], sid);
    });
  });
});
