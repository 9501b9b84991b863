// Hostile input over HTTP (issue 11, items 4, 6, 7, 8): log injection through logged
// request values, the probes behind DNS-rebinding protection, deviations from RFC 9112 and
// docs/http.md, and a 413 that Node's HTTP client must read (lingering close).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ACCEPT_BOTH,
  httpRequest,
  initSession,
  initializeRequest,
  jsonRpcErrorCode,
  mcpPost,
  pollUntil,
  rawHttp,
  startServer,
  withTimeout,
} from './lib/harness.mjs';

const WAIT_MS = 5_000;

function tmpFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-e2e-hostile-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** The server's whole stderr from now on (the harness keeps only a tail). */
function captureStderr(server) {
  const log = { text: server.stderr() };
  server.proc.stderr.on('data', (c) => (log.text += c));
  return log;
}

// Issue 11's request: the session id holds a line break, a forged log line and an ANSI
// escape (clear screen).
const FORGED_TARGET =
  '/message?sessionId=x%0A%5B2026-12-05%2010%3A00%3A00.000%5D%20%5Bfrontmcp%5D%20%5Berror%5D%20FORGED%1B%5B2J';
const FORGED_SESSION = 'x\n[2026-12-05 10:00:00.000] [frontmcp] [error] FORGED\x1b[2J';

describe('(4) log injection: logged request values are escaped', () => {
  const token = `tok-${Math.random().toString(36).slice(2)}`;

  it('text log: the forged session id stays on one line, without an ESC byte', async () => {
    const s = await startServer(['--auth-token-file', tmpFile('token', `${token}\n`), '--log-level', 'info']);
    const log = captureStderr(s);
    try {
      const res = await httpRequest(`${s.base}${FORGED_TARGET}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      assert.equal(res.status, 401, res.body);
      await pollUntil(() => log.text, (t) => t.includes('rejected by the authorization hook'), WAIT_MS, 'the 401 log line');
      assert.ok(!log.text.includes('\x1b'), `an ESC byte in the log:\n${JSON.stringify(log.text)}`);
      assert.doesNotMatch(log.text, /^\[[^\]]*\] \[frontmcp\] \[error\] FORGED/m, log.text);
      assert.ok(
        log.text.includes('session="x\\n[2026-12-05 10:00:00.000] [frontmcp] [error] FORGED\\x1b[2J"'),
        `the escaped session id in:\n${log.text}`,
      );
    } finally {
      await s.stop();
    }
  });

  it('JSON log: every line parses, and the field holds the value as sent', async () => {
    const s = await startServer([
      '--auth-token-file', tmpFile('token', `${token}\n`), '--log-level', 'info', '--log-format', 'json',
    ]);
    const log = captureStderr(s);
    try {
      const res = await httpRequest(`${s.base}${FORGED_TARGET}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401, res.body);
      // A Host with a byte that is not UTF-8 and a C1 control (CSI, ESC's one-byte form)
      // reaches a warning line (DNS-rebinding protection).
      const bad = await rawHttp(s.port, `GET /mcp HTTP/1.1\r\nHost: evil\xff\xc2\x9b31m.example\r\nConnection: close\r\n\r\n`);
      assert.equal(bad.status, 403, bad.raw);
      const lines = await pollUntil(
        () => log.text.split('\n').filter(Boolean),
        (ls) => ls.some((l) => l.includes('authorization hook')) && ls.some((l) => l.includes('DNS-rebinding')),
        WAIT_MS,
        'the 401 and 403 log lines',
      );
      assert.ok(!log.text.includes('\x1b'), `an ESC byte in the log:\n${JSON.stringify(log.text)}`);
      const records = lines.map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return assert.fail(`not a JSON line: ${JSON.stringify(l)}`);
        }
      });
      const rejected = records.find((r) => r.msg.includes('authorization hook'));
      assert.equal(rejected.session, FORGED_SESSION);
      // Escaped in the line (\u009b), so decoded back; the invalid byte as the text \xff.
      assert.ok(records.some((r) => r.msg.includes('evil\\xff\u009b31m.example')), JSON.stringify(records));
    } finally {
      await s.stop();
    }
  });
});

describe('(6) probes behind DNS-rebinding protection', () => {
  it('on a loopback bind, /healthz, /readyz and /metrics refuse a foreign Host (403) and serve loopback ones', async () => {
    const s = await startServer(['--log-level', 'error']);
    try {
      for (const p of ['/healthz', '/readyz', '/metrics']) {
        const evil = await httpRequest(`${s.base}${p}`, { headers: { Host: 'evil.example' } });
        assert.equal(evil.status, 403, `${p}: ${evil.body}`);
        assert.equal(jsonRpcErrorCode(evil.body), -32000);
        assert.doesNotMatch(evil.body, /redis|ready|frontmcp_/i, `${p} leaks nothing: ${evil.body}`);
        const origin = await httpRequest(`${s.base}${p}`, { headers: { Origin: 'http://evil.example' } });
        assert.equal(origin.status, 403, `${p} with a foreign Origin: ${origin.body}`);
        for (const host of [`localhost:${s.port}`, `127.0.0.1:${s.port}`]) {
          const ok = await httpRequest(`${s.base}${p}`, { headers: { Host: host } });
          assert.equal(ok.status, 200, `${p} with Host ${host}: ${ok.body}`);
        }
      }
    } finally {
      await s.stop();
    }
  });

  it('on a routable bind with protection on, probes stay open to the pod IP as Host (Kubernetes)', async () => {
    const s = await startServer(['--host', '0.0.0.0', '--dns-rebinding-protection', 'true', '--log-level', 'error']);
    try {
      for (const p of ['/healthz', '/readyz', '/metrics']) {
        const probe = await httpRequest(`${s.base}${p}`, { headers: { Host: `10.1.2.3:${s.port}` } });
        assert.equal(probe.status, 200, `${p}: ${probe.body}`);
      }
      const mcp = await mcpPost(s.url, initializeRequest(), { headers: { Host: `10.1.2.3:${s.port}` } });
      assert.equal(mcp.status, 403, 'the MCP endpoint keeps its check');
    } finally {
      await s.stop();
    }
  });
});

describe('(7) RFC 9112 and docs/http.md', () => {
  let s;
  before(async () => {
    s = await startServer(['--log-level', 'error']);
  });
  after(async () => s?.stop());

  for (const origin of ['chrome-extension://localhost', 'ws://127.0.0.1', 'file://localhost', 'moz-extension://[::1]']) {
    it(`Origin: ${origin} (not http/https) → 403`, async () => {
      const res = await mcpPost(s.url, initializeRequest(), { headers: { Origin: origin } });
      assert.equal(res.status, 403, res.body);
      assert.match(JSON.parse(res.body).error.message, /Origin not allowed/);
    });
  }

  it('Origin: https://localhost is still accepted', async () => {
    const res = await mcpPost(s.url, initializeRequest(), { headers: { Origin: 'https://localhost' } });
    assert.equal(res.status, 200, res.body);
  });

  it('[initialize] (a batch of one) → 400 with a single -32600 error object', async () => {
    const res = await mcpPost(s.url, [initializeRequest()]);
    assert.equal(res.status, 400, res.body);
    const body = JSON.parse(res.body);
    assert.ok(!Array.isArray(body), `a single error object, not a batch answer: ${res.body}`);
    assert.equal(body.error?.code, -32600, res.body);
    assert.equal(body.id, null);
    assert.equal(res.headers['mcp-session-id'], undefined, 'no session was created');
  });

  it('two Host headers → 400, and the connection closes', async () => {
    const res = await rawHttp(
      s.port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nHost: evil.example\r\n\r\n`,
    );
    assert.equal(res.status, 400, res.raw);
    assert.match(res.head, /\r\nConnection: close/i, res.head);
    assert.equal(jsonRpcErrorCode(res.body), -32000, res.body);
  });

  it('an HTTP/1.1 request without Host → 400; HTTP/1.0 without Host is served', async () => {
    assert.equal((await rawHttp(s.port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n')).status, 400);
    // HTTP/1.0 needs no Host; on a loopback bind the probe's Host check then refuses it.
    assert.equal((await rawHttp(s.port, 'GET /healthz HTTP/1.0\r\n\r\n')).status, 403);
  });

  for (const [what, text] of [
    ['a request line without a version', 'GET /healthz\r\n\r\n'],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n'],
    ['a bad Content-Length', 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12x\r\n\r\n'],
    ['a bad chunk size', 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ]) {
    it(`malformed: ${what} → 400 before the close`, async () => {
      const res = await rawHttp(s.port, text);
      assert.equal(res.status, 400, res.raw);
      assert.match(res.head, /\r\nConnection: close/i, res.head);
    });
  }

  it('the server keeps serving after malformed requests', async () => {
    const session = await initSession(s.url);
    assert.deepEqual((await session.request('ping')).result, {});
  });
});

describe('(7) --read-timeout-ms, --write-timeout-ms and the idle sweep', () => {
  it('--read-timeout-ms: a body that stops arriving is cut after the timeout', async () => {
    const s = await startServer(['--read-timeout-ms', '300', '--write-timeout-ms', '1000', '--log-level', 'error']);
    try {
      const res = await rawHttp(
        s.port,
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
      );
      assert.ok(res.ms >= 250 && res.ms < 2_000, `closed after ${res.ms} ms`);
    } finally {
      await s.stop();
    }
  });

  it('readTimeoutMs / writeTimeoutMs are config-file keys (non-positive values are refused)', async () => {
    const s = await startServer(['--config', tmpFile('t.toml', 'readTimeoutMs = 300\nwriteTimeoutMs = 500\n'), '--log-level', 'error']);
    try {
      const res = await rawHttp(s.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n{`);
      assert.ok(res.ms < 2_000, `closed after ${res.ms} ms`);
    } finally {
      await s.stop();
    }
    await assert.rejects(startServer(['--write-timeout-ms', '0']), /--write-timeout-ms: must be a positive integer/);
  });

  it('--session-idle-ttl-ms 1000: an idle session ends within about 1.25 s, not 30 s', async () => {
    const s = await startServer(['--session-idle-ttl-ms', '1000', '--log-level', 'info']);
    const log = captureStderr(s);
    try {
      const session = await initSession(s.url);
      const started = Date.now();
      await pollUntil(() => log.text, (t) => t.includes('expired 1 idle sessions'), 5_000, 'the idle session to expire');
      const ms = Date.now() - started;
      assert.ok(ms >= 900 && ms < 3_000, `expired after ${ms} ms`);
      const res = await session.post({ jsonrpc: '2.0', id: 9, method: 'ping' });
      assert.equal(res.status, 404, res.body);
    } finally {
      await s.stop();
    }
  });
});

/**
 * POSTs `bytes` bytes to /mcp with Node's HTTP client in one write, as the SDK does; resolves
 * to { status } when a response arrives first, { error } when the request fails first.
 */
function nodePost(port, bytes, { chunked = false } = {}) {
  return withTimeout(
    new Promise((resolve) => {
      const headers = { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH };
      if (chunked) headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = bytes;
      const req = http.request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers, agent: false });
      let settled = false;
      req.on('response', (res) => {
        settled = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
        res.on('error', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', (err) => {
        if (!settled) resolve({ error: err.code ?? err.message });
      });
      req.end(Buffer.alloc(bytes, 0x20));
    }),
    WAIT_MS,
    `a ${bytes}-byte POST`,
  );
}

describe('(8) lingering close: the client reads the early answer', () => {
  let s;
  before(async () => {
    s = await startServer(['--log-level', 'error']);
  });
  after(async () => s?.stop());

  it('a 5 MB POST from Node’s HTTP client reads its 413 (10 of 10 runs)', async () => {
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await nodePost(s.port, 5_000_000));
    assert.deepEqual(results.map((r) => r.status ?? r.error), Array(10).fill(413), JSON.stringify(results));
    assert.equal(jsonRpcErrorCode(results[0].body), -32000);
  });

  it('a chunked 5 MB POST (over the limit while reading) reads its 413 (5 of 5 runs)', async () => {
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await nodePost(s.port, 5_000_000, { chunked: true }));
    assert.deepEqual(results.map((r) => r.status ?? r.error), Array(5).fill(413), JSON.stringify(results));
  });

  it('a client that keeps sending after the 413 is closed within the lingering bound (~2.5 s)', async () => {
    // allowHalfOpen: a client still writing its body does not stop at the server's FIN.
    const socket = net.connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (c) => (raw += c));
    socket.on('error', () => {});
    const started = Date.now();
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n');
    const chunk = Buffer.alloc(1024, 0x20);
    const trickle = setInterval(() => socket.writable && socket.write(chunk), 50);
    try {
      await withTimeout(closed, 6_000, 'the server to close a lingering connection');
    } finally {
      clearInterval(trickle);
    }
    const ms = Date.now() - started;
    assert.match(raw, /^HTTP\/1\.1 413 /, raw);
    assert.ok(ms >= 1_500 && ms < 4_000, `closed after ${ms} ms`);
  });

  it('a client that sends nothing more (and does not close) is closed after the idle bound (~1 s)', async () => {
    // Half-open, the client does not see the close; the server's connection gauge does.
    const openConnections = async () => {
      const m = /^frontmcp_connections_open (\d+)$/m.exec((await httpRequest(`${s.base}/metrics`)).body);
      return Number(m?.[1]);
    };
    const socket = net.connect({ port: s.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    try {
      let raw = '';
      socket.setEncoding('latin1');
      const answered = new Promise((resolve) => socket.on('data', (c) => (raw += c) && resolve()));
      socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50000000\r\n\r\n');
      await withTimeout(answered, WAIT_MS, 'the 413');
      const started = Date.now();
      assert.match(raw, /^HTTP\/1\.1 413 /, raw);
      assert.equal(await openConnections(), 2, 'the lingering connection and the scrape');
      await pollUntil(openConnections, (n) => n === 1, 4_000, 'the lingering connection to close', 50);
      const ms = Date.now() - started;
      assert.ok(ms >= 700 && ms < 3_000, `closed after ${ms} ms`);
    } finally {
      socket.destroy();
    }
  });

  it('the server keeps serving afterwards', async () => {
    const session = await initSession(s.url);
    assert.deepEqual((await session.request('ping')).result, {});
  });
});
