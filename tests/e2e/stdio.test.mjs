// stdio mode: newline-delimited JSON-RPC on stdin/stdout, logs on stderr only.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Inbox, LATEST_PROTOCOL_VERSION, initializeRequest, INITIALIZED, randomText, rpc, serverBinary, withTimeout } from './lib/harness.mjs';
import { REQ, REQUEST_TIMEOUT_MS, textOf } from './lib/sdk.mjs';

const WAIT_MS = 5_000;

describe('stdio transport with the SDK client', () => {
  const clients = [];
  after(async () => {
    for (const c of clients.splice(0)) await withTimeout(c.close(), WAIT_MS, 'client.close()').catch(() => {});
  });

  it('initializes, calls echo and lists resources; stdout carries only JSON-RPC', async () => {
    const transport = new StdioClientTransport({
      command: serverBinary(),
      args: ['--stdio', '--node-id', 'stdio-node', '--log-level', 'debug'],
      stderr: 'pipe',
    });
    const transportErrors = [];
    const client = new Client({ name: 'frontmcp-e2e-stdio', version: '0.0.0' }, { capabilities: {} });
    clients.push(client);
    client.onerror = (err) => transportErrors.push(err);
    transport.stderr?.resume(); // drain the debug logs so the pipe never fills
    await withTimeout(client.connect(transport, REQ), REQUEST_TIMEOUT_MS, 'SDK client to connect over stdio');

    const text = randomText('stdio');
    const echo = await client.callTool({ name: 'echo', arguments: { text } }, undefined, REQ);
    assert.deepEqual(echo.content, [{ type: 'text', text }]);

    const whoami = await client.callTool({ name: 'whoami', arguments: {} }, undefined, REQ);
    assert.equal(textOf(whoami), 'stdio-node');

    const { resources } = await client.listResources({}, REQ);
    assert.ok(resources.some((r) => r.uri === 'test://static-text'), JSON.stringify(resources));

    // The SDK reports every stdout line that is not a JSON-RPC message as an error.
    assert.deepEqual(transportErrors.map(String), []);
  });
});

describe('stdio transport, raw', () => {
  /** Spawns the server with --stdio and collects its stdout lines in an Inbox. */
  function spawnStdio(args = []) {
    const proc = spawn(serverBinary(), ['--stdio', '--log-level', 'debug', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = new Inbox('stdout lines');
    readline.createInterface({ input: proc.stdout }).on('line', (l) => lines.push(l));
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    const send = (msg) => proc.stdin.write(`${JSON.stringify(msg)}\n`);
    const answerTo = (id) =>
      lines.waitFor((l) => {
        try {
          return JSON.parse(l).id === id;
        } catch {
          return false;
        }
      }, WAIT_MS, `the answer to request ${id}`).then((l) => JSON.parse(l));
    return { proc, lines, exited, send, answerTo, stderr: () => stderr };
  }

  const procs = [];
  after(() => {
    for (const p of procs) p.kill('SIGKILL');
  });

  it('every stdout line is one JSON-RPC message; logs go to stderr', async () => {
    const s = spawnStdio();
    procs.push(s.proc);
    const init = initializeRequest();
    s.send(init);
    const initAnswer = await s.answerTo(init.id);
    assert.equal(initAnswer.result.protocolVersion, LATEST_PROTOCOL_VERSION);
    s.send(INITIALIZED);
    const call = rpc('tools/call', { name: 'echo', arguments: { text: 'line\nbreak' } });
    s.send(call);
    const answer = await s.answerTo(call.id);
    assert.deepEqual(answer.result.content, [{ type: 'text', text: 'line\nbreak' }]);

    s.proc.stdin.end(); // closing stdin ends the session: the server exits
    const exit = await withTimeout(s.exited, WAIT_MS, 'the server to exit after stdin closed');
    assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
    for (const line of s.lines.items) {
      let msg;
      assert.doesNotThrow(() => (msg = JSON.parse(line)), `stdout line is JSON: ${line}`);
      assert.equal(msg.jsonrpc, '2.0', line);
    }
    assert.equal(s.lines.items.length, 2, `exactly the two answers on stdout: ${s.lines.items.join('\n')}`);
  });

  it('a line that is not JSON gets a -32700 error, and the server keeps going', async () => {
    const s = spawnStdio();
    procs.push(s.proc);
    s.proc.stdin.write('this is not json\n');
    const parseError = await s.lines.waitFor(() => true, WAIT_MS, 'an answer to the bad line');
    const msg = JSON.parse(parseError);
    assert.equal(msg.error?.code, -32700, parseError);
    assert.equal(msg.id, null, parseError);

    const init = initializeRequest();
    s.send(init);
    assert.ok((await s.answerTo(init.id)).result);
    s.proc.kill('SIGTERM');
    const exit = await withTimeout(s.exited, WAIT_MS, 'the server to exit after SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
  });

  // MCP 2026-07-28 on stdio: the opening exchange pins the process's generation (the TS SDK's
  // serveStdio); server/discover, a dual-era client's probe, does not pin.
  const MODERN = '2026-07-28';
  const META = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'frontmcp-e2e-stdio', version: '0.0.0' },
  };
  const modern = (method, params = {}) => rpc(method, { ...params, _meta: META });

  it('server/discover is answered without pinning; initialize then serves the session generation', async () => {
    const s = spawnStdio();
    procs.push(s.proc);
    const discover = modern('server/discover');
    s.send(discover);
    const found = await s.answerTo(discover.id);
    assert.equal(found.result?.resultType, 'complete', JSON.stringify(found));
    assert.deepEqual(found.result.supportedVersions, [MODERN]);
    assert.ok(found.result._meta?.['io.modelcontextprotocol/serverInfo']?.name, JSON.stringify(found));

    const init = initializeRequest();
    s.send(init);
    const initAnswer = await s.answerTo(init.id);
    assert.equal(initAnswer.result?.protocolVersion, LATEST_PROTOCOL_VERSION, JSON.stringify(initAnswer));
    s.send(INITIALIZED);
    const call = rpc('tools/call', { name: 'echo', arguments: { text: 'legacy' } });
    s.send(call);
    const answer = await s.answerTo(call.id);
    assert.deepEqual(answer.result.content, [{ type: 'text', text: 'legacy' }]);
    assert.equal(answer.result.resultType, undefined, 'the session generation has no resultType');
  });

  it('a modern request pins the process: results are decorated, initialize gets -32022, missing _meta -32602', async () => {
    const s = spawnStdio();
    procs.push(s.proc);
    const call = modern('tools/call', { name: 'echo', arguments: { text: 'modern' } });
    s.send(call);
    const answer = await s.answerTo(call.id);
    assert.equal(answer.result?.resultType, 'complete', JSON.stringify(answer));
    assert.deepEqual(answer.result.content, [{ type: 'text', text: 'modern' }]);
    assert.ok(answer.result._meta?.['io.modelcontextprotocol/serverInfo'], JSON.stringify(answer));

    const init = initializeRequest();
    s.send(init);
    const refused = await s.answerTo(init.id);
    assert.equal(refused.error?.code, -32022, JSON.stringify(refused));
    assert.deepEqual(refused.error.data, { supported: [MODERN], requested: LATEST_PROTOCOL_VERSION });

    const bare = rpc('tools/list', {});
    s.send(bare);
    const invalid = await s.answerTo(bare.id);
    assert.equal(invalid.error?.code, -32602, JSON.stringify(invalid));

    const ping = modern('ping');
    s.send(ping);
    assert.equal((await s.answerTo(ping.id)).error?.code, -32601);

    const list = modern('tools/list');
    s.send(list);
    const tools = await s.answerTo(list.id);
    assert.equal(tools.result?.resultType, 'complete', JSON.stringify(tools));
    assert.equal(tools.result.ttlMs, 0);
  });
});
