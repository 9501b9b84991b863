// subscriptions/listen (MCP 2026-07-28) against the real frontmcp-server: the
// acknowledgement first, the subscription id on every message, only the kinds asked for,
// the list-change triggers reaching listeners and legacy sessions, the graceful end on
// SIGTERM, and a change made on one node of a cluster reaching a listener on another.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initSession, mcpPost, openSse, postHeaders, startServer } from './lib/harness.mjs';
import { startCluster } from './lib/cluster.mjs';

const MODERN = '2026-07-28';
const ACK = 'notifications/subscriptions/acknowledged';
const SUB_ID = 'io.modelcontextprotocol/subscriptionId';
const WAIT_MS = 5_000;
/** How long "nothing else arrives" is watched after the frame that should follow it. */
const QUIET_MS = 300;

const meta = () => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'frontmcp-e2e-listen', version: '0.0.0' },
});

function modernHeaders(method, name) {
  const headers = { 'Mcp-Method': method };
  if (name) headers['Mcp-Name'] = name;
  return postHeaders({ protocolVersion: MODERN, headers });
}

/** Opens a listen stream; resolves once its first frame (returned) arrived. */
async function listen(url, id, notifications) {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: meta(), notifications } });
  const stream = await openSse(url, { method: 'POST', headers: modernHeaders('subscriptions/listen'), body });
  assert.equal(stream.status, 200);
  assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
  const first = await stream.events.next(WAIT_MS, 'the acknowledgement');
  return { ...stream, first: first.json };
}

/** A modern tools/call of `tool` (no session); resolves to its JSON-RPC response. */
async function callTool(url, tool, id = 77) {
  const msg = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: {}, _meta: meta() } };
  const res = await mcpPost(url, msg, { protocolVersion: MODERN, headers: { 'Mcp-Method': 'tools/call', 'Mcp-Name': tool } });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body);
}

function nextMethod(stream, method) {
  return stream.events.nextMatching((e) => e.json?.method === method, WAIT_MS, method);
}

describe('subscriptions/listen, one server', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('acknowledges first, then tags every change with the subscription id', async () => {
    const s = await listen(server.url, 'listen-1', { toolsListChanged: true, promptsListChanged: true });
    try {
      assert.equal(s.first.method, ACK);
      assert.equal(s.first.id, undefined);
      assert.equal(s.first.params._meta[SUB_ID], 'listen-1');
      assert.deepEqual(s.first.params.notifications, { toolsListChanged: true, promptsListChanged: true });
      const r = await callTool(server.url, 'test_trigger_tool_change');
      assert.equal(r.result.content[0].text, 'Mutation triggered');
      const tools = await nextMethod(s, 'notifications/tools/list_changed');
      assert.equal(tools.json.params._meta[SUB_ID], 'listen-1');
      assert.equal(tools.id, undefined, 'no event ids in this generation');
      await callTool(server.url, 'test_trigger_prompt_change');
      const prompts = await nextMethod(s, 'notifications/prompts/list_changed');
      assert.equal(prompts.json.params._meta[SUB_ID], 'listen-1');
    } finally {
      s.close();
    }
  });

  it('sends only the kinds asked for (a numeric id stays a number)', async () => {
    const s = await listen(server.url, 42, { promptsListChanged: true });
    try {
      assert.deepEqual(s.first.params.notifications, { promptsListChanged: true });
      await callTool(server.url, 'test_trigger_tool_change');
      await callTool(server.url, 'test_trigger_prompt_change');
      const next = await s.events.next(WAIT_MS, 'the prompts change');
      assert.equal(next.json.method, 'notifications/prompts/list_changed', 'no tools change before it');
      assert.equal(next.json.params._meta[SUB_ID], 42);
    } finally {
      s.close();
    }
  });

  it('the triggers reach legacy sessions too, and change no list', async () => {
    const session = await initSession(server.url);
    const before = (await session.request('tools/list', {})).result.tools.length;
    const get = await openSse(server.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion } });
    try {
      assert.equal(get.status, 200);
      await session.request('tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      await get.events.nextMatching((e) => e.json?.method === 'notifications/tools/list_changed', WAIT_MS, 'tools/list_changed on the GET stream');
      assert.equal((await session.request('tools/list', {})).result.tools.length, before);
    } finally {
      get.close();
    }
  });
});

describe('subscriptions/listen at shutdown', () => {
  it('SIGTERM ends the stream with the listen result', async () => {
    const server = await startServer();
    try {
      const s = await listen(server.url, 'bye', { toolsListChanged: true });
      const stopping = server.stop();
      const end = await s.events.nextMatching((e) => e.json?.id === 'bye', WAIT_MS, 'the listen result');
      assert.equal(end.json.result.resultType, 'complete');
      assert.equal(end.json.result._meta[SUB_ID], 'bye');
      assert.ok(end.json.result._meta['io.modelcontextprotocol/serverInfo']?.name);
      await s.events.waitEnd(WAIT_MS);
      const { killed } = await stopping;
      assert.equal(killed, false, 'stopped without SIGKILL');
    } finally {
      await server.stop();
    }
  });
});

describe('subscriptions/listen in a cluster', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster(2);
  });
  after(async () => {
    await cluster?.close();
  });

  it('a change on node A reaches a listener on node B, once', async () => {
    const [a, b] = cluster.nodes;
    const s = await listen(b.url, 'on-b', { toolsListChanged: true });
    try {
      assert.equal(s.first.method, ACK);
      await callTool(a.url, 'test_trigger_tool_change');
      const got = await nextMethod(s, 'notifications/tools/list_changed');
      assert.equal(got.json.params._meta[SUB_ID], 'on-b');
      // A change on B itself is delivered once (locally, not again through the relay).
      await callTool(b.url, 'test_trigger_tool_change');
      await nextMethod(s, 'notifications/tools/list_changed');
      await assert.rejects(s.events.next(QUIET_MS, 'a duplicate'), /timed out/);
    } finally {
      s.close();
    }
  });
});
