// The official TypeScript SDK v2 client (@modelcontextprotocol/client 2.4.0) against one
// server, in its three version-negotiation modes at once (issue 13, item 9):
//   - legacy (the option's default): the 2025 handshake, `initialize` + Mcp-Session-Id;
//   - auto: probes `server/discover`; a 2026-07-28 server is spoken to statelessly, with the
//     per-request `_meta` envelope and no session;
//   - pin 2026-07-28: the stateless generation or nothing (no fallback).
// Each lists tools, calls test_simple_text, reads a resource and gets a prompt; the modern ones
// also run a multi-round-trip request (MRTR) that the client fulfils on its own through its
// elicitation handler. Then the same over stdio (`frontmcp-server --stdio`) in auto and pin.
//
// Parts that depend on server work in progress are NOT skipped: they fail until it lands
// (MRTR fixtures `test_input_required_result_*`; the 2026 generation over stdio).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { LATEST_PROTOCOL_VERSION, serverBinary, startServer, withTimeout } from './lib/harness.mjs';

const MODERN_VERSION = '2026-07-28';
const TIMEOUT_MS = 10_000;
const REQ = Object.freeze({ timeout: TIMEOUT_MS });
const SIMPLE_TEXT = 'This is a simple text response for testing.';
const STATIC_TEXT = 'This is the content of the static text resource.';
const SIMPLE_PROMPT = 'This is a simple prompt for testing.';
// The conformance fixture's MRTR tool: round 1 answers input_required with an
// elicitation/create under the key user_name; the retry carrying the answer greets the name.
const MRTR_TOOL = 'test_input_required_result_elicitation';
const MRTR_NAME = 'Alice';

const MODES = Object.freeze({
  legacy: 'legacy',
  auto: 'auto',
  pin: { pin: MODERN_VERSION },
});

/**
 * A fetch that records every HTTP exchange of one client:
 *   { method (HTTP), rpc (JSON-RPC method of the body), body (parsed), headers (sent, lower
 *     case), status, sessionId (Mcp-Session-Id answered) }.
 */
function recordingFetch() {
  const exchanges = [];
  const f = async (input, init = {}) => {
    const headers = Object.fromEntries([...new Headers(init.headers)].map(([k, v]) => [k.toLowerCase(), v]));
    let body;
    if (typeof init.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        /* not JSON */
      }
    }
    const ex = { method: (init.method ?? 'GET').toUpperCase(), rpc: body?.method, body, headers };
    exchanges.push(ex);
    const res = await fetch(input, init);
    ex.status = res.status;
    ex.sessionId = res.headers.get('mcp-session-id');
    return res;
  };
  return { fetch: f, exchanges };
}

/**
 * A v2 client in `mode` with an elicitation handler that accepts with { name: Alice };
 * `elicited` collects the requests the handler saw.
 */
function newClient(label, mode) {
  const client = new Client(
    { name: `frontmcp-e2e-v2-${label}`, version: '0.0.0' },
    { capabilities: { elicitation: {} }, versionNegotiation: { mode } },
  );
  const elicited = [];
  client.setRequestHandler('elicitation/create', async (request) => {
    elicited.push(request);
    return { action: 'accept', content: { name: MRTR_NAME } };
  });
  return { client, elicited };
}

function textOf(result) {
  return (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');
}

/** The calls every mode must answer the same way, whatever its era. */
async function exerciseBasics(client) {
  const { tools } = await client.listTools({}, REQ);
  assert.ok(tools.length > 0, 'tools/list returned no tools');
  assert.equal(tools[0].name, 'test_simple_text', `tools[0] is ${tools[0].name}`);
  assert.ok(tools.some((t) => t.name === 'echo'), JSON.stringify(tools.map((t) => t.name)));

  const simple = await client.callTool({ name: 'test_simple_text', arguments: {} }, REQ);
  assert.deepEqual(simple.content, [{ type: 'text', text: SIMPLE_TEXT }]);

  const read = await client.readResource({ uri: 'test://static-text' }, REQ);
  assert.equal(read.contents.length, 1, JSON.stringify(read));
  assert.equal(read.contents[0].uri, 'test://static-text');
  assert.equal(read.contents[0].text, STATIC_TEXT);

  const prompt = await client.getPrompt({ name: 'test_simple_prompt' }, REQ);
  assert.deepEqual(prompt.messages, [{ role: 'user', content: { type: 'text', text: SIMPLE_PROMPT } }]);
}

/** MRTR: one callTool, fulfilled by the client's own elicitation handler between rounds. */
async function exerciseMrtr({ client, elicited }) {
  const before = elicited.length;
  const result = await client.callTool({ name: MRTR_TOOL, arguments: {} }, REQ);
  assert.notEqual(result.isError, true, JSON.stringify(result));
  assert.match(textOf(result), new RegExp(`\\b${MRTR_NAME}\\b`), JSON.stringify(result));
  assert.equal(elicited.length, before + 1, `elicitation handler ran ${elicited.length - before} times`);
  const req = elicited.at(-1);
  const params = req.params ?? req;
  assert.equal(typeof params.message, 'string', JSON.stringify(req));
}

describe('SDK v2 client over Streamable HTTP: legacy, auto and pinned clients on one server', () => {
  let server;
  const clients = {};
  const wires = {};

  before(async () => {
    server = await startServer(['--log-level', 'warn']);
    // All three connect at once, on the same /mcp.
    await Promise.all(
      Object.entries(MODES).map(async ([label, mode]) => {
        const rec = recordingFetch();
        const c = newClient(label, mode);
        wires[label] = rec.exchanges;
        clients[label] = c;
        const transport = new StreamableHTTPClientTransport(new URL(server.url), { fetch: rec.fetch });
        await withTimeout(c.client.connect(transport, REQ), TIMEOUT_MS, `the ${label} client to connect`);
      }),
    );
  });

  after(async () => {
    for (const { client } of Object.values(clients)) await withTimeout(client.close(), 5_000, 'client.close()').catch(() => {});
    if (server) {
      const exit = await server.stop();
      assert.equal(exit.killed, false, `server needed SIGKILL; stderr:\n${server.stderr()}`);
    }
  });

  it('legacy: the 2025 handshake (initialize, Mcp-Session-Id), no server/discover', () => {
    const { client } = clients.legacy;
    assert.equal(client.getProtocolEra(), 'legacy');
    assert.equal(client.getNegotiatedProtocolVersion(), LATEST_PROTOCOL_VERSION);
    const wire = wires.legacy;
    assert.equal(wire[0].rpc, 'initialize', JSON.stringify(wire.map((e) => e.rpc)));
    assert.ok(wire[0].sessionId, 'initialize was answered without Mcp-Session-Id');
    assert.ok(!wire.some((e) => e.rpc === 'server/discover'), 'the legacy client probed server/discover');
  });

  for (const label of ['auto', 'pin']) {
    it(`${label}: negotiates ${MODERN_VERSION} through server/discover, no initialize, no session`, () => {
      const { client } = clients[label];
      assert.equal(client.getProtocolEra(), 'modern');
      assert.equal(client.getNegotiatedProtocolVersion(), MODERN_VERSION);
      assert.ok(client.getDiscoverResult()?.supportedVersions?.includes(MODERN_VERSION), JSON.stringify(client.getDiscoverResult()));
      const wire = wires[label];
      assert.equal(wire[0].rpc, 'server/discover', JSON.stringify(wire.map((e) => e.rpc)));
      assert.ok(!wire.some((e) => e.rpc === 'initialize'), `the ${label} client sent initialize`);
    });
  }

  it('all three at once: tools/list, tools/call test_simple_text, resources/read, prompts/get', async () => {
    await Promise.all(Object.values(clients).map(({ client }) => exerciseBasics(client)));
    // The modern requests carried the envelope and the standard headers, and the server minted
    // no session for them.
    for (const label of ['auto', 'pin']) {
      const posts = wires[label].filter((e) => e.method === 'POST' && e.rpc);
      assert.ok(posts.length >= 5, `${label}: ${posts.length} POSTs`);
      for (const e of posts) {
        assert.equal(e.headers['mcp-protocol-version'], MODERN_VERSION, `${label} ${e.rpc}: ${JSON.stringify(e.headers)}`);
        assert.equal(e.headers['mcp-method'], e.rpc, `${label} ${e.rpc}: ${JSON.stringify(e.headers)}`);
        assert.equal(e.body?.params?._meta?.['io.modelcontextprotocol/protocolVersion'], MODERN_VERSION, JSON.stringify(e.body));
        assert.equal(e.sessionId, null, `${label} ${e.rpc}: the server answered Mcp-Session-Id ${e.sessionId}`);
      }
    }
    for (const e of wires.legacy.filter((x) => x.method === 'POST' && x.rpc && x.rpc !== 'initialize')) {
      assert.ok(e.headers['mcp-session-id'], `legacy ${e.rpc} without Mcp-Session-Id`);
    }
  });

  // Needs the MRTR fixture (being added to apps/frontmcp-server/fixtures.cpp); fails until then.
  for (const label of ['auto', 'pin']) {
    it(`${label}: MRTR auto-fulfilment: ${MRTR_TOOL} answered through the elicitation handler`, async () => {
      const calls = () => wires[label].filter((e) => e.rpc === 'tools/call' && e.body?.params?.name === MRTR_TOOL);
      await exerciseMrtr(clients[label]);
      // Two rounds on the wire: the first without answers, the retry with the keyed answer.
      const rounds = calls();
      assert.equal(rounds.length, 2, JSON.stringify(rounds.map((e) => e.body)));
      assert.equal(rounds[0].body.params.inputResponses, undefined);
      assert.ok(rounds[1].body.params.inputResponses?.user_name, JSON.stringify(rounds[1].body));
      assert.notEqual(rounds[0].body.id, rounds[1].body.id, 'the retry reused the request id');
    });
  }
});

describe('SDK v2 client over stdio (frontmcp-server --stdio): auto and pinned', () => {
  // Depends on the 2026 generation over stdio (in progress); fails until it lands.
  for (const label of ['auto', 'pin']) {
    it(`${label}: negotiates ${MODERN_VERSION}, lists tools, calls test_simple_text, MRTR`, async () => {
      const c = newClient(`stdio-${label}`, MODES[label]);
      const transport = new StdioClientTransport({
        command: serverBinary(),
        args: ['--stdio', '--log-level', 'warn'],
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.setEncoding('utf8').on('data', (d) => (stderr += d));
      try {
        await withTimeout(c.client.connect(transport, REQ), TIMEOUT_MS, `the stdio ${label} client to connect`);
        assert.equal(c.client.getProtocolEra(), 'modern', `stderr:\n${stderr}`);
        assert.equal(c.client.getNegotiatedProtocolVersion(), MODERN_VERSION);
        await exerciseBasics(c.client);
        await exerciseMrtr(c);
      } finally {
        await withTimeout(c.client.close(), 5_000, 'client.close()').catch(() => {});
      }
    });
  }
});
