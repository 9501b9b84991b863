// What one session can make the server keep is bounded by bytes (issue 11, items 2 and 3).
// Each test tries to exceed a bound the way the hostile-input report did; each failed on the
// code before the bounds (no limit, or answers lost). Real binary, loopback only.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  httpRequest,
  initSession,
  initializeRequest,
  jsonRpcErrorCode,
  mcpPost,
  messagesOf,
  openSse,
  rpc,
  serverBinary,
  startServer,
} from './lib/harness.mjs';
import { parsePrometheus } from './lib/prometheus.mjs';

const KiB = 1024;
const MiB = 1024 * KiB;

/** AddressSanitizer keeps freed memory in quarantine (256 MB): RSS says nothing there. */
async function sanitized() {
  return (await readFile(serverBinary())).includes('__asan_init');
}

async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * KiB;
}

async function metric(server, name, labels = {}) {
  const r = await httpRequest(`${server.base}/metrics`);
  assert.equal(r.status, 200);
  return parsePrometheus(r.body).value(name, labels);
}

const touch = (uri) => rpc('tools/call', { name: 'touch_resource', arguments: { uri } });

describe('issue 11: bounded by bytes (default limits)', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('the amplification of the report: a 256 KiB URI cannot be subscribed, touching it keeps nothing; 1 MiB clientInfo is refused', async (t) => {
    const rss0 = await rssBytes(server.proc.pid);
    const big = `test://amplify/${'a'.repeat(256 * KiB)}`;
    const sessions = [];
    for (let i = 0; i < 16; i++) sessions.push(await initSession(server.url));
    for (const s of sessions) {
      const r = await s.post(rpc('resources/subscribe', { uri: big }));
      assert.equal(r.status, 200);
      assert.equal(jsonRpcErrorCode(r.body), -32602, r.body);
      assert.match(r.body, /the limit is 4096/);
    }
    for (let i = 0; i < 24; i++) {
      const r = await sessions[i % 16].post(touch(big));
      assert.equal(r.status, 200, r.body);
    }
    const huge = { name: 'x'.repeat(MiB), version: '1' };
    for (let i = 0; i < 8; i++) {
      const init = initializeRequest();
      init.params.clientInfo = huge;
      const r = await mcpPost(server.url, init);
      assert.equal(jsonRpcErrorCode(r.body), -32602, r.body.slice(0, 300));
      assert.match(r.body, /clientInfo and capabilities take \d+ bytes; the limit is 65536/);
      assert.equal(r.headers['mcp-session-id'], undefined, 'no session was created');
    }
    assert.equal(await metric(server, 'frontmcp_event_log_bytes'), 0, 'nothing was logged for anyone');
    const grown = (await rssBytes(server.proc.pid)) - rss0;
    // The report: +195 MB for the touches, +14-16 MB for the initializes. What remains is
    // allocator slack of parsing the bodies (the attacker sent ~16 MB).
    t.diagnostic(`RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    if (!(await sanitized())) assert.ok(grown < 24 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
  });

  it('subscriptions per session stop at 100; unsubscribing makes room', async () => {
    const s = await initSession(server.url);
    for (let i = 0; i < 100; i++) {
      const r = await s.post(rpc('resources/subscribe', { uri: `test://sub/${i}` }));
      assert.equal(jsonRpcErrorCode(r.body), undefined, r.body);
    }
    const over = await s.post(rpc('resources/subscribe', { uri: 'test://sub/100' }));
    assert.equal(jsonRpcErrorCode(over.body), -32600, over.body);
    assert.match(over.body, /already has 100 subscriptions/);
    await s.request('resources/unsubscribe', { uri: 'test://sub/0' });
    const now = await s.post(rpc('resources/subscribe', { uri: 'test://sub/100' }));
    assert.equal(jsonRpcErrorCode(now.body), undefined, now.body);
  });

  it('a batch of 1,500 pings is refused before any of it runs (-32600, HTTP 400); a batch at the limit is answered whole', async () => {
    const s = await initSession(server.url, { protocolVersion: '2025-03-26' });
    const listener = await initSession(server.url);
    const uri = 'test://batch-watched';
    await listener.request('resources/subscribe', { uri });
    const before = await metric(server, 'frontmcp_event_log_bytes');
    // Touches in the refused batch would log an update for the listener: none may run.
    const refused = Array.from({ length: 1_500 }, (_, i) => ({ ...(i % 2 ? rpc('ping') : touch(uri)), id: i + 1 }));
    const r = await s.post(refused);
    assert.equal(r.status, 400, r.body.slice(0, 300));
    assert.equal(jsonRpcErrorCode(r.body), -32600, r.body);
    assert.match(r.body, /a batch of 1500 messages; the limit is 100/);
    assert.equal(await metric(server, 'frontmcp_event_log_bytes'), before, 'no touch of the refused batch ran');

    const ok = Array.from({ length: 100 }, (_, i) => ({ ...rpc('ping'), id: i + 1 }));
    const answered = await s.post(ok);
    assert.equal(answered.status, 200);
    const ids = messagesOf(answered).map((m) => m.id).sort((a, b) => a - b);
    assert.deepEqual(ids, ok.map((m) => m.id));
  });
});

describe('issue 11: a small event log loses no answer', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-events-per-stream', '20']);
  });
  after(async () => {
    await server?.stop();
  });

  it('a batch of 100 progress tools over SSE gets all 100 answers though the stream keeps 20 events', async () => {
    // The report: batches of 1,500 progress tools got 797-1,151 answers; the oldest answers
    // were dropped from the 1,000-event log before the stream was written.
    const s = await initSession(server.url, { protocolVersion: '2025-03-26' });
    const batch = Array.from({ length: 100 }, (_, i) => ({
      ...rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: `p${i}` } }),
      id: i + 1,
    }));
    const r = await s.post(batch, { timeoutMs: 30_000 });
    assert.equal(r.status, 200);
    const answers = messagesOf(r).filter((m) => m.id !== undefined && (m.result || m.error));
    assert.deepEqual(answers.map((m) => m.id).sort((a, b) => a - b), batch.map((m) => m.id), `${answers.length} answers`);
    assert.ok(answers.every((m) => m.result && !m.result.isError), 'every call succeeded');
  });

});

describe('issue 11: event bytes per session', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-event-bytes-per-session', String(256 * KiB)]);
  });
  after(async () => {
    await server?.stop();
  });

  it('a session flooded with notifications keeps at most its event bytes (256 KiB here), whether or not its GET stream reads', async () => {
    const victim = await initSession(server.url);
    const uri = `test://flood/${'f'.repeat(4 * KiB - 20)}`;
    await victim.request('resources/subscribe', { uri });
    const reader = await openSse(server.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': victim.sessionId, 'MCP-Protocol-Version': victim.protocolVersion },
    });
    assert.equal(reader.status, 200);
    const attacker = await initSession(server.url);
    try {
      for (let i = 0; i < 300; i++) {
        const r = await attacker.post(touch(uri));
        assert.equal(r.status, 200);
      }
      const kept = await metric(server, 'frontmcp_event_log_bytes');
      // ~1.2 MB of updates were sent to the session; one event may exceed the bound (the newest is kept).
      assert.ok(kept <= 256 * KiB + 5 * KiB, `the server keeps ${kept} bytes of events`);
      assert.ok(kept > 128 * KiB, `the log is in use (${kept} bytes)`);
    } finally {
      reader.close();
    }
  });
});
