// Raw HTTP against /mcp: one case per row of the status table in docs/testing.md (the
// TypeScript SDK server's behaviour, which clients rely on), plus limits, DNS-rebinding
// protection, session lifecycle and protocol-version negotiation.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ACCEPT_BOTH,
  INITIALIZED,
  LATEST_PROTOCOL_VERSION,
  httpRequest,
  initSession,
  initializeRequest,
  mcpPost,
  messagesOf,
  openSse,
  pollUntil,
  responseTo,
  rpc,
  startServer,
  withTimeout,
} from './lib/harness.mjs';

const WAIT_MS = 5_000;

/**
 * Asserts an HTTP error whose body is a JSON-RPC error object
 * {"jsonrpc":"2.0","error":{"code":code,"message":"..."},"id":null|requestId}.
 */
function assertRpcError(res, status, code, requestId = null) {
  assert.equal(res.status, status, `HTTP status; body: ${res.body}`);
  assert.match(String(res.headers['content-type'] ?? ''), /^application\/json/, `content-type of ${res.body}`);
  let body;
  assert.doesNotThrow(() => (body = JSON.parse(res.body)), `JSON body: ${res.body}`);
  assert.equal(body.jsonrpc, '2.0', res.body);
  if (code !== undefined) assert.equal(body.error?.code, code, `JSON-RPC error code in ${res.body}`);
  else assert.equal(typeof body.error?.code, 'number', res.body);
  assert.equal(typeof body.error.message, 'string', res.body);
  assert.ok('id' in body, `an "id" member in ${res.body}`);
  assert.ok(body.id === null || body.id === requestId, `id null (or the request's) in ${res.body}`);
}

/** Asserts 202 Accepted with an empty body. */
function assertAccepted(res) {
  assert.equal(res.status, 202, res.body);
  assert.equal(res.body, '', '202 has an empty body');
}

describe('raw HTTP on /mcp', () => {
  let server;
  let url;
  const openStreams = [];

  before(async () => {
    server = await startServer(['--log-level', 'warn']);
    url = server.url;
  });
  after(async () => {
    for (const s of openStreams.splice(0)) s.close();
    await server?.stop();
  });

  describe('the status table', () => {
    it('POST with Accept: application/json only → 406 / -32000', async () => {
      const res = await mcpPost(url, initializeRequest(), { headers: { Accept: 'application/json' } });
      assertRpcError(res, 406, -32000);
    });

    it('POST with Accept: text/event-stream only → 406 / -32000', async () => {
      const res = await mcpPost(url, initializeRequest(), { headers: { Accept: 'text/event-stream' } });
      assertRpcError(res, 406, -32000);
    });

    it('POST without an Accept header → 406 / -32000', async () => {
      const res = await httpRequest(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: initializeRequest(),
      });
      assertRpcError(res, 406, -32000);
    });

    it('POST with Accept: text/event-stream, application/json (either order) is accepted', async () => {
      const init = initializeRequest();
      const res = await mcpPost(url, init, { headers: { Accept: 'text/event-stream, application/json' } });
      assert.equal(res.status, 200, res.body);
      assert.ok(responseTo(res, init.id)?.result, res.body);
    });

    it('headers over 16 KiB → 431 / -32000, and the server keeps serving', async () => {
      const res = await mcpPost(url, initializeRequest(), { headers: { 'X-Padding': 'p'.repeat(20 * 1024) } });
      assertRpcError(res, 431, -32000);
      const ok = await mcpPost(url, initializeRequest());
      assert.equal(ok.status, 200, ok.body);
    });

    it('POST with Content-Type text/plain → 415 / -32000', async () => {
      const res = await mcpPost(url, initializeRequest(), { headers: { 'Content-Type': 'text/plain' } });
      assertRpcError(res, 415, -32000);
    });

    it('POST with Content-Type application/json; charset=utf-8 is accepted', async () => {
      const init = initializeRequest();
      const res = await mcpPost(url, init, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
      assert.equal(res.status, 200, res.body);
      assert.ok(responseTo(res, init.id)?.result, res.body);
    });

    it('body that is not JSON → 400 / -32700', async () => {
      const res = await mcpPost(url, '{"jsonrpc": "2.0", "id": 1, "method": "initialize", ');
      assertRpcError(res, 400, -32700);
    });

    it('empty body → 400 / -32700', async () => {
      const res = await mcpPost(url, '');
      assertRpcError(res, 400, -32700);
    });

    // JSON-RPC 2.0 §5.1: valid JSON that is not a valid Request object is -32600 Invalid
    // Request (the TypeScript SDK answers -32700 here; we follow the JSON-RPC spec, see
    // docs/http.md).
    for (const body of ['{"hello":"world"}', '42', '"text"', '{"jsonrpc":"1.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":1,"method":5}']) {
      it(`JSON that is not a JSON-RPC message (${body}) → 400 / -32600`, async () => {
        assertRpcError(await mcpPost(url, body), 400, -32600);
      });
    }

    it('a second initialize on a session → 400 / -32600', async () => {
      const session = await initSession(url);
      const again = initializeRequest();
      const res = await session.post(again);
      assertRpcError(res, 400, -32600, again.id);
    });

    it('non-initialize request without Mcp-Session-Id → 400 / -32000', async () => {
      const res = await mcpPost(url, rpc('tools/list'));
      assertRpcError(res, 400, -32000);
    });

    it('unknown session → 404 / -32001', async () => {
      const res = await mcpPost(url, rpc('tools/list'), { sessionId: `no-such-session-${Date.now()}`, protocolVersion: LATEST_PROTOCOL_VERSION });
      assertRpcError(res, 404, -32001);
    });

    it('terminated session (DELETE → 200) → 404 / -32001 afterwards, for POST, GET and DELETE', async () => {
      const session = await initSession(url);
      const del = await httpRequest(url, {
        method: 'DELETE',
        headers: { 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      });
      assert.equal(del.status, 200, del.body);

      assertRpcError(await session.post(rpc('tools/list')), 404, -32001);
      const get = await httpRequest(url, {
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      });
      assertRpcError(get, 404, -32001);
      const delAgain = await httpRequest(url, {
        method: 'DELETE',
        headers: { 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      });
      assertRpcError(delAgain, 404, -32001);
    });

    it('unsupported MCP-Protocol-Version header → 400 / -32000', async () => {
      const session = await initSession(url);
      const res = await session.post(rpc('tools/list'), { protocolVersion: '1999-01-01' });
      assertRpcError(res, 400, -32000);
    });

    it('second standalone GET stream for a session → 409 / -32000; after the first closes, a new one is accepted', async () => {
      const session = await initSession(url);
      const headers = { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion };
      const first = await openSse(url, { headers });
      openStreams.push(first);
      assert.equal(first.status, 200);
      assert.match(String(first.headers['content-type']), /^text\/event-stream/);

      const second = await httpRequest(url, { headers });
      assertRpcError(second, 409, -32000);

      first.close();
      const third = await pollUntil(
        async () => {
          const s = await openSse(url, { headers });
          openStreams.push(s);
          if (s.status !== 200) s.close();
          return s;
        },
        (s) => s.status === 200,
        WAIT_MS,
        'a new GET stream to be accepted once the first one closed',
      );
      assert.equal(third.status, 200);
      third.close();
    });

    it('GET without Accept: text/event-stream → 406 / -32000', async () => {
      const session = await initSession(url);
      const res = await httpRequest(url, {
        headers: { Accept: 'application/json', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      });
      assertRpcError(res, 406, -32000);
    });

    it('GET without Mcp-Session-Id → 400 / -32000', async () => {
      const res = await httpRequest(url, { headers: { Accept: 'text/event-stream' } });
      assertRpcError(res, 400, -32000);
    });

    it('methods other than GET/POST/DELETE → 405 / -32000', async () => {
      for (const method of ['PUT', 'PATCH']) {
        const res = await httpRequest(url, {
          method,
          headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH },
          body: rpc('ping'),
        });
        assertRpcError(res, 405, -32000);
      }
    });

    it('POST of a notification only → 202 with an empty body', async () => {
      const session = await initSession(url);
      assertAccepted(await session.post({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }));
      assertAccepted(await session.post(INITIALIZED));
    });

    it('POST of a response only → 202 with an empty body', async () => {
      const session = await initSession(url);
      assertAccepted(await session.post({ jsonrpc: '2.0', id: 'never-asked-1', result: {} }));
      assertAccepted(await session.post({ jsonrpc: '2.0', id: 'never-asked-2', error: { code: -32603, message: 'x' } }));
    });

    it('DELETE of a session → 200', async () => {
      const session = await initSession(url);
      const res = await httpRequest(url, {
        method: 'DELETE',
        headers: { 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      });
      assert.equal(res.status, 200, res.body);
    });

    it('DELETE without Mcp-Session-Id → 400 / -32000', async () => {
      const res = await httpRequest(url, { method: 'DELETE' });
      assertRpcError(res, 400, -32000);
    });

    it('DELETE ends an open GET stream of the session', async () => {
      const session = await initSession(url);
      const headers = { 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion };
      const stream = await openSse(url, { headers: { ...headers, Accept: 'text/event-stream' } });
      openStreams.push(stream);
      assert.equal(stream.status, 200);
      const del = await httpRequest(url, { method: 'DELETE', headers });
      assert.equal(del.status, 200, del.body);
      await stream.events.waitEnd(WAIT_MS);
    });
  });

  describe('batches and initialization', () => {
    it('a batch containing initialize → 400 / -32600', async () => {
      const res = await mcpPost(url, [initializeRequest({ protocolVersion: '2025-03-26' }), rpc('ping')]);
      assertRpcError(res, 400, -32600);
    });

    it('a batch of two requests in a 2025-03-26 session answers both', async () => {
      const session = await initSession(url, { protocolVersion: '2025-03-26' });
      assert.equal(session.protocolVersion, '2025-03-26');
      const a = rpc('tools/call', { name: 'echo', arguments: { text: 'batch-a' } });
      const b = rpc('ping');
      const res = await session.post([a, b]);
      assert.equal(res.status, 200, res.body);
      const answers = messagesOf(res);
      assert.deepEqual(answers.find((m) => m.id === a.id)?.result?.content, [{ type: 'text', text: 'batch-a' }], res.body);
      assert.deepEqual(answers.find((m) => m.id === b.id)?.result, {}, res.body);
    });

    it('a batch of notifications only → 202 with an empty body', async () => {
      const session = await initSession(url, { protocolVersion: '2025-03-26' });
      assertAccepted(await session.post([INITIALIZED, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }]));
    });
  });

  describe('protocol versions', () => {
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05']) {
      it(`initialize with ${version} negotiates ${version}`, async () => {
        const session = await initSession(url, { protocolVersion: version });
        assert.equal(session.protocolVersion, version);
        const reply = await session.request('tools/call', { name: 'echo', arguments: { text: version } });
        assert.deepEqual(reply.result.content, [{ type: 'text', text: version }]);
      });
    }

    it('initialize with an unknown version answers with the latest supported one', async () => {
      const session = await initSession(url, { protocolVersion: '1999-01-01' });
      assert.equal(session.protocolVersion, LATEST_PROTOCOL_VERSION);
    });

    it('a request without MCP-Protocol-Version (assumed 2025-03-26) is accepted', async () => {
      const session = await initSession(url, { protocolVersion: '2025-03-26' });
      const msg = rpc('ping');
      const res = await session.post(msg, { protocolVersion: undefined });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(responseTo(res, msg.id)?.result, {}, res.body);
    });

    it('the initialize response carries an Mcp-Session-Id of visible ASCII', async () => {
      const init = initializeRequest();
      const res = await mcpPost(url, init);
      assert.equal(res.status, 200, res.body);
      assert.match(String(res.headers['mcp-session-id']), /^[\x21-\x7e]+$/);
      const answer = responseTo(res, init.id);
      assert.equal(answer.jsonrpc, '2.0');
      assert.equal(answer.result.protocolVersion, LATEST_PROTOCOL_VERSION);
      assert.ok(answer.result.serverInfo?.name, res.body);
    });
  });

  describe('DNS-rebinding protection (Host / Origin)', () => {
    const initWith = (headers) => mcpPost(url, initializeRequest(), { headers });

    for (const host of [
      'evil.example.com',
      'evil.example.com:PORT',
      'localhost.evil.example.com',
      '127.0.0.1.evil.example.com:PORT',
      '127.0.0.1evil.example.com',
      '[::1].evil.example.com',
    ]) {
      it(`Host: ${host} → 403 / -32000`, async () => {
        assertRpcError(await initWith({ Host: host.replace('PORT', server.port) }), 403, -32000);
      });
    }

    it('Origin: http://evil.example.com → 403 / -32000', async () => {
      assertRpcError(await initWith({ Origin: 'http://evil.example.com' }), 403, -32000);
    });

    it('Origin: http://evil.example.com on GET /sse → 403', async () => {
      const res = await httpRequest(`${server.base}/sse`, {
        headers: { Accept: 'text/event-stream', Origin: 'http://evil.example.com' },
      });
      assert.equal(res.status, 403, res.body);
    });

    it('Host: evil.example.com on GET /sse → 403', async () => {
      const res = await httpRequest(`${server.base}/sse`, {
        headers: { Accept: 'text/event-stream', Host: 'evil.example.com' },
      });
      assert.equal(res.status, 403, res.body);
    });

    for (const host of ['localhost:PORT', 'localhost', '127.0.0.1:PORT', '[::1]:PORT']) {
      it(`Host: ${host} is accepted`, async () => {
        const res = await initWith({ Host: host.replace('PORT', server.port) });
        assert.equal(res.status, 200, res.body);
        assert.ok(res.headers['mcp-session-id']);
      });
    }

    for (const origin of ['http://localhost:PORT', 'http://127.0.0.1:PORT', 'http://[::1]:PORT']) {
      it(`Origin: ${origin} is accepted`, async () => {
        const res = await initWith({ Origin: origin.replace('PORT', server.port) });
        assert.equal(res.status, 200, res.body);
      });
    }
  });
});

describe('--max-body-bytes', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-body-bytes', '1024', '--log-level', 'warn']);
  });
  after(async () => server?.stop());

  it('a body over the limit → 413 / -32000', async () => {
    const session = await initSession(server.url);
    const res = await session.post(rpc('tools/call', { name: 'echo', arguments: { text: 'x'.repeat(4096) } }));
    assertRpcError(res, 413, -32000);
  });

  it('a chunked body over the limit → 413 / -32000', async () => {
    const session = await initSession(server.url);
    const res = await httpRequest(server.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion },
      body: rpc('tools/call', { name: 'echo', arguments: { text: 'x'.repeat(4096) } }),
      chunked: true,
    });
    assertRpcError(res, 413, -32000);
  });

  it('a body just under the limit is served', async () => {
    const session = await initSession(server.url);
    const msg = rpc('tools/call', { name: 'echo', arguments: { text: '' } });
    const overhead = Buffer.byteLength(JSON.stringify(msg));
    const text = 'y'.repeat(1024 - overhead - 8);
    const reply = await session.request('tools/call', { name: 'echo', arguments: { text } });
    assert.deepEqual(reply.result.content, [{ type: 'text', text }]);
  });

  it('the server keeps serving after rejecting a large body', async () => {
    await roundTrip(server.url);
  });
});

describe('--max-sessions', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-sessions', '2', '--log-level', 'warn']);
  });
  after(async () => server?.stop());

  it('initialize beyond the limit → 503 with Retry-After; a DELETE frees a slot', async () => {
    const first = await initSession(server.url);
    await initSession(server.url);
    const res = await mcpPost(server.url, initializeRequest());
    assertRpcError(res, 503);
    assert.match(String(res.headers['retry-after'] ?? ''), /^\d+$/, `Retry-After header in ${JSON.stringify(res.headers)}`);

    // Existing sessions are still served.
    const reply = await first.request('ping');
    assert.deepEqual(reply.result, {});

    const del = await httpRequest(server.url, {
      method: 'DELETE',
      headers: { 'Mcp-Session-Id': first.sessionId, 'MCP-Protocol-Version': first.protocolVersion },
    });
    assert.equal(del.status, 200, del.body);
    const again = await initSession(server.url);
    assert.ok(again.sessionId);
  });
});

describe('--idle-timeout-ms', () => {
  let server;
  before(async () => {
    server = await startServer(['--idle-timeout-ms', '300', '--log-level', 'error']);
  });
  after(async () => server?.stop());

  it('a connection that sends nothing is closed after the idle timeout (within the reaper interval)', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    const opened = Date.now();
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => {});
    await withTimeout(closed, 5000, 'the server to close an idle connection');
    const ms = Date.now() - opened;
    assert.ok(ms >= 250, `closed too early: ${ms} ms`);
    assert.ok(ms < 2000, `closed too late: ${ms} ms`);
  });

  it('a keep-alive connection stays usable while requests keep coming', async () => {
    const session = await initSession(server.url);
    for (let i = 0; i < 3; i++) {
      const reply = await session.request('ping');
      assert.deepEqual(reply.result, {});
    }
  });
});

describe('--max-connections', () => {
  let server;
  const sockets = [];
  before(async () => {
    server = await startServer(['--max-connections', '2', '--log-level', 'error']);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await server?.stop();
  });

  /** A keep-alive connection that has been served once (so the server counts it). */
  async function heldConnection() {
    const socket = net.connect(server.port, '127.0.0.1');
    sockets.push(socket);
    const answered = new Promise((resolve, reject) => {
      let got = '';
      socket.on('data', (d) => {
        got += d;
        if (got.includes('{"status":"ok"}')) resolve(got);
      });
      socket.on('error', reject);
    });
    socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: keep-alive\r\n\r\n`);
    return withTimeout(answered, 5000, 'the held connection to be served');
  }

  it('a connection beyond the limit gets 503 + Retry-After; a freed slot is usable again', async () => {
    await heldConnection();
    await heldConnection();
    const refused = await httpRequest(`${server.base}/healthz`);
    assertRpcError(refused, 503);
    assert.match(String(refused.headers['retry-after'] ?? ''), /^\d+$/);

    const freed = new Promise((resolve) => sockets[0].on('close', resolve));
    sockets[0].destroy();
    await withTimeout(freed, 5000, 'the client socket to close');
    const ok = await pollUntil(
      () => httpRequest(`${server.base}/healthz`),
      (r) => r.status === 200, 5000, 'a request to be served after a slot was freed');
    assert.equal(ok.status, 200);
  });
});

/** A full initialize + echo on a fresh raw session. */
async function roundTrip(url) {
  const session = await initSession(url);
  const reply = await session.request('tools/call', { name: 'echo', arguments: { text: 'alive' } });
  assert.deepEqual(reply.result.content, [{ type: 'text', text: 'alive' }]);
  return session;
}
