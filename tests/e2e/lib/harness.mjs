// Shared helpers of the end-to-end tests: start/stop the server binary, raw HTTP, raw SSE,
// raw MCP sessions, and bounded waits. Every wait here has a deadline; nothing sleeps to
// synchronise.

import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Newest protocol version the server supports (and the SDK sends). */
export const LATEST_PROTOCOL_VERSION = '2025-11-25';

/**
 * Flags that turn both rate limits off (docs/configuration.md "Rate limits"), for tests that
 * put load on a server: all their clients are the anonymous principal from 127.0.0.1, one
 * bucket of each limit, which a tight loop empties.
 */
export const NO_RATE_LIMITS = Object.freeze(['--requests-per-second', '0', '--tool-calls-per-second', '0']);

/** Path of the server under test: $FRONTMCP_SERVER_BIN, else the default build location. */
export function serverBinary() {
  return process.env.FRONTMCP_SERVER_BIN ?? path.resolve(here, '../../../build/bin/frontmcp-server');
}

// ---------------------------------------------------------------------------------------------
// Bounded waiting

/** Resolves/rejects like `promise`, or rejects after `ms` with a message naming `what`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `probe()` (async) every `intervalMs` until `accept(value)` holds, at most `ms`; resolves
 * to the accepted value, rejects with the last value seen. For states the server reaches
 * asynchronously and does not announce (e.g. noticing a closed connection).
 */
export async function pollUntil(probe, accept, ms, what, intervalMs = 25) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (accept(last)) return last;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A promise with its resolve/reject exposed. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Collects items (notifications, events, ...) as they arrive and lets a test wait, with a
 * deadline, until one matching a predicate has arrived.
 */
export class Inbox {
  constructor(name = 'inbox') {
    this.name = name;
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    this.items.push(item);
    for (const w of [...this.waiters]) {
      if (w.predicate(item)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(item);
      }
    }
  }

  /** First item (already arrived or future) for which `predicate` holds. */
  waitFor(predicate, ms, what = `an item in ${this.name}`) {
    const found = this.items.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    const d = deferred();
    const waiter = { predicate, resolve: d.resolve };
    this.waiters.push(waiter);
    return withTimeout(d.promise, ms, what).finally(() => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }

  count(predicate = () => true) {
    return this.items.filter(predicate).length;
  }
}

// ---------------------------------------------------------------------------------------------
// Server process

// Every child process a test starts (servers, redis-server, nginx, haproxy) dies with the
// test process, even when the test fails before its own clean-up.
const liveChildren = new Set();
function killAllSync() {
  for (const p of liveChildren) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
process.once('exit', killAllSync);

/** Tracks `proc` until it exits (see above); resolves to its { code, signal } on exit. */
export function trackChild(proc) {
  liveChildren.add(proc);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => liveChildren.delete(proc));
  return exited;
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller retries if it is taken since). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to 127.0.0.1:port is accepted now. */
export function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAllSync();
    process.exit(130);
  });
}

/** Keeps the last `limit` characters written to it (the server's stderr, for diagnostics). */
class TailBuffer {
  constructor(limit = 64 * 1024) {
    this.limit = limit;
    this.text = '';
  }
  append(chunk) {
    this.text += chunk;
    if (this.text.length > this.limit) this.text = this.text.slice(this.text.length - this.limit);
  }
}

// Any bind address (tests that bind 0.0.0.0 still connect through 127.0.0.1).
const LISTENING_LINE = /^frontmcp-server listening on http:\/\/(?:127\.0\.0\.1|0\.0\.0\.0):(\d+)\/mcp\s*$/;

/**
 * Starts the server in HTTP mode on 127.0.0.1 and a random free port, waits (bounded) for its
 * "listening on" line and returns
 *   { url: 'http://127.0.0.1:PORT/mcp', base: 'http://127.0.0.1:PORT', port, proc,
 *     stdoutLines, stderr(), exited, stop() }.
 * `stop()` sends SIGTERM, waits up to `stopTimeoutMs`, then SIGKILLs; it resolves to
 * { code, signal, killed } where `killed` says whether SIGKILL was needed.
 */
export async function startServer(args = [], { startTimeoutMs = 10_000, stopTimeoutMs = 10_000, env } = {}) {
  const bin = serverBinary();
  // A caller's own --port replaces the default 0 (the CLI rejects a second --port).
  const portArgs = args.includes('--port') ? [] : ['--port', '0'];
  const hostArgs = args.includes('--host') ? [] : ['--host', '127.0.0.1'];
  const proc = spawn(bin, [...hostArgs, ...portArgs, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const stderr = new TailBuffer();
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c) => stderr.append(c));

  const exited = trackChild(proc);
  const server = { proc, exited, stdoutLines: [], stderr: () => stderr.text };

  const listening = deferred();
  const lines = readline.createInterface({ input: proc.stdout });
  lines.on('line', (line) => {
    server.stdoutLines.push(line);
    const m = LISTENING_LINE.exec(line);
    if (m) listening.resolve({ url: `http://127.0.0.1:${m[1]}/mcp`, port: Number(m[1]) });
  });
  proc.once('error', (err) => listening.reject(new Error(`cannot start ${bin}: ${err.message}`)));
  exited.then(({ code, signal }) =>
    listening.reject(
      new Error(`${bin} exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr.text}`),
    ),
  );

  let where;
  try {
    where = await withTimeout(listening.promise, startTimeoutMs, `"${bin}" to print its listening line`);
  } catch (err) {
    if (proc.pid !== undefined) {
      proc.kill('SIGKILL');
      await withTimeout(exited, 2_000, 'the server to die after SIGKILL').catch(() => {});
    }
    err.message += `\nstdout: ${server.stdoutLines.join('\n')}\nstderr tail:\n${stderr.text}`;
    throw err;
  }

  server.url = where.url;
  server.port = where.port;
  server.base = `http://127.0.0.1:${where.port}`;
  server.stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return { ...(await exited), killed: false };
    proc.kill('SIGTERM');
    try {
      return { ...(await withTimeout(exited, stopTimeoutMs, 'the server to exit after SIGTERM')), killed: false };
    } catch {
      proc.kill('SIGKILL');
      const r = await withTimeout(exited, 5_000, 'the server to exit after SIGKILL');
      return { ...r, killed: true };
    }
  };
  return server;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

function toUrl(u) {
  return u instanceof URL ? u : new URL(u);
}

/**
 * Writes `text` (one byte per character, latin1: malformed requests, duplicate fields, raw
 * bytes) to a fresh connection to 127.0.0.1:port and reads until the server closes it,
 * within `timeoutMs`. `allowHalfOpen`: keep sending after the server's FIN (by default
 * Node ends its side as soon as the server ends its own).
 * Resolves to { status (0 if no status line), head, body, raw, ms (connect to close) }.
 */
export function rawHttp(port, text, { timeoutMs = 10_000, allowHalfOpen = false } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const started = Date.now();
      const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen }, () => s.write(Buffer.from(text, 'latin1')));
      let raw = '';
      s.setEncoding('latin1');
      s.on('data', (c) => (raw += c));
      s.on('error', (err) => (raw ? undefined : reject(err)));
      s.on('close', () => {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
        const split = raw.indexOf('\r\n\r\n');
        resolve({
          status: m ? Number(m[1]) : 0,
          head: split < 0 ? raw : raw.slice(0, split),
          body: split < 0 ? '' : raw.slice(split + 4),
          raw,
          ms: Date.now() - started,
        });
      });
    }),
    timeoutMs,
    'the server to answer and close a raw connection',
  );
}

/**
 * Sends one HTTP request with exactly the given headers (a `Host` header given here replaces
 * the default one) and reads the whole response body, within `timeoutMs`.
 * Resolves to { status, headers, body } (body as a string).
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, chunked = false, timeoutMs = 10_000 } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = openRequest(url, { method, headers, body, chunked });
      req.on('error', reject);
      req.on('response', (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
        res.on('error', reject);
      });
    }),
    timeoutMs,
    `${method} ${url}`,
  );
}

/** `chunked`: send the body with Transfer-Encoding: chunked instead of Content-Length. */
function openRequest(url, { method, headers, body, chunked = false, agent = false }) {
  const u = toUrl(url);
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const h = { ...headers };
  if (payload !== undefined && !chunked && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) {
    h['Content-Length'] = Buffer.byteLength(payload);
  }
  const req = http.request({
    host: u.hostname,
    port: u.port,
    path: u.pathname + u.search,
    method,
    headers: h,
    agent, // a fresh connection per request: no keep-alive interference between tests
  });
  if (payload !== undefined) req.write(payload);
  req.end();
  return req;
}

/**
 * Opens a request whose response is a (possibly endless) SSE stream. Resolves, once the
 * response headers arrived, to { status, headers, events: SseReader, close() }.
 */
export function openSse(url, { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = openRequest(url, { method, headers, body });
      req.on('error', reject);
      req.on('response', (res) => {
        const events = new SseReader(res);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          events,
          close: () => {
            req.destroy();
            res.destroy();
          },
        });
      });
    }),
    timeoutMs,
    `response headers of ${method} ${url}`,
  );
}

// ---------------------------------------------------------------------------------------------
// SSE

/** Parses a complete SSE text (e.g. a finished response body) into events. */
export function parseSseText(text) {
  const reader = new SseParser();
  const events = reader.feed(text);
  return events.concat(reader.flush());
}

/** Incremental SSE parser (WHATWG rules, enough for tests): feed text, get whole events. */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.event = { event: 'message', data: [], id: undefined, retry: undefined };
    this.lastEventId = undefined;
    this.retry = undefined;
  }

  feed(text) {
    this.buffer += text;
    const out = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone '\r' at the end may be the first half of "\r\n": wait for more input.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  flush() {
    const out = [];
    if (this.buffer.length) {
      const ev = this.line(this.buffer);
      this.buffer = '';
      if (ev) out.push(ev);
    }
    const ev = this.line('');
    if (ev) out.push(ev);
    return out;
  }

  line(line) {
    if (line === '') {
      const e = this.event;
      this.event = { event: 'message', data: [], id: undefined, retry: undefined };
      // Per the SSE rules an event is dispatched only when it had at least one data field.
      if (e.data.length === 0) return undefined;
      return { event: e.event, data: e.data.join('\n'), id: e.id, retry: e.retry };
    }
    if (line.startsWith(':')) return undefined; // comment / keep-alive
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event.event = value;
    else if (field === 'data') this.event.data.push(value);
    else if (field === 'id') this.event.id = this.lastEventId = value;
    else if (field === 'retry') this.event.retry = this.retry = Number(value);
    return undefined;
  }
}

/**
 * Reads SSE events from a response stream. `next(ms)` / `nextMatching(pred, ms)` wait, with a
 * deadline, for the next (matching) event; they reject when the stream ends first.
 * Each event: { event, data, id, retry, json } (json = parsed data when it is JSON).
 */
export class SseReader {
  constructor(res) {
    this.parser = new SseParser();
    this.queue = [];
    this.waiters = [];
    this.ended = false;
    this.all = [];
    res.setEncoding('utf8');
    res.on('data', (chunk) => this.deliver(this.parser.feed(chunk)));
    const finish = () => {
      if (this.ended) return;
      this.deliver(this.parser.flush());
      this.ended = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('SSE stream ended'));
    };
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', finish);
  }

  /** The last `id:` seen on the stream (what a client would send as Last-Event-ID). */
  get lastEventId() {
    return this.parser.lastEventId;
  }

  deliver(events) {
    for (const ev of events) {
      try {
        ev.json = JSON.parse(ev.data);
      } catch {
        ev.json = undefined;
      }
      this.all.push(ev);
      this.queue.push(ev);
    }
    while (this.queue.length && this.waiters.length) this.waiters.shift().resolve(this.queue.shift());
  }

  next(ms = 5_000, what = 'the next SSE event') {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.reject(new Error('SSE stream ended'));
    const d = deferred();
    const waiter = { resolve: d.resolve, reject: d.reject };
    this.waiters.push(waiter);
    return withTimeout(d.promise, ms, what).finally(() => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    });
  }

  async nextMatching(predicate, ms = 5_000, what = 'a matching SSE event') {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      const ev = await this.next(left, what);
      if (predicate(ev)) return ev;
    }
  }

  /** Resolves when the stream has ended (bounded). */
  async waitEnd(ms = 5_000) {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for the SSE stream to end`);
      await this.next(left, 'the end of the SSE stream').catch(() => {});
    }
    return this.all;
  }
}

// ---------------------------------------------------------------------------------------------
// Raw MCP over Streamable HTTP

export const ACCEPT_BOTH = 'application/json, text/event-stream';

let nextId = 1;
/** A JSON-RPC request object with a fresh id. */
export function rpc(method, params) {
  const msg = { jsonrpc: '2.0', id: nextId++, method };
  if (params !== undefined) msg.params = params;
  return msg;
}

export function initializeRequest({ protocolVersion = LATEST_PROTOCOL_VERSION, capabilities = {} } = {}) {
  return rpc('initialize', {
    protocolVersion,
    capabilities,
    clientInfo: { name: 'frontmcp-e2e-raw', version: '0.0.0' },
  });
}

export const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };

/**
 * The JSON-RPC messages of a finished POST response: the JSON body (object or array), or the
 * `message` events of an SSE body. Empty for an empty body.
 */
export function messagesOf(res) {
  const type = String(res.headers['content-type'] ?? '');
  if (res.body === '') return [];
  if (type.startsWith('text/event-stream')) {
    return parseSseText(res.body)
      .filter((e) => e.event === 'message' && e.data !== '')
      .map((e) => JSON.parse(e.data));
  }
  const data = JSON.parse(res.body);
  return Array.isArray(data) ? data : [data];
}

/** The response (result or error) with the given id among `messagesOf(res)`. */
export function responseTo(res, id) {
  return messagesOf(res).find((m) => m.id === id && ('result' in m || 'error' in m));
}

/** Headers of a well-formed POST to /mcp, plus session / version / extra headers. */
export function postHeaders({ sessionId, protocolVersion, headers = {} } = {}) {
  const h = { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH };
  if (sessionId) h['Mcp-Session-Id'] = sessionId;
  if (protocolVersion) h['MCP-Protocol-Version'] = protocolVersion;
  return { ...h, ...headers };
}

/** POSTs one JSON-RPC message (or batch) to the MCP endpoint and reads the whole response. */
export function mcpPost(url, message, opts = {}) {
  return httpRequest(url, {
    method: 'POST',
    headers: postHeaders(opts),
    body: typeof message === 'string' ? message : JSON.stringify(message),
    timeoutMs: opts.timeoutMs,
  });
}

/**
 * A raw initialized session: POST initialize, read Mcp-Session-Id, POST
 * notifications/initialized (expects 202). Returns
 *   { url, sessionId, protocolVersion, initResult, post(message, opts), request(method, params) }
 * where `request` resolves to the JSON-RPC response message.
 */
export async function initSession(url, { protocolVersion = LATEST_PROTOCOL_VERSION, capabilities = {}, headers = {} } = {}) {
  const init = initializeRequest({ protocolVersion, capabilities });
  const res = await mcpPost(url, init, { headers });
  if (res.status !== 200) throw new Error(`initialize: HTTP ${res.status}: ${res.body}`);
  const sessionId = res.headers['mcp-session-id'];
  if (!sessionId) throw new Error(`initialize: no Mcp-Session-Id header in ${JSON.stringify(res.headers)}`);
  const response = responseTo(res, init.id);
  if (!response?.result) throw new Error(`initialize: no result in ${res.body}`);
  const negotiated = response.result.protocolVersion;
  const ack = await mcpPost(url, INITIALIZED, { sessionId, protocolVersion: negotiated, headers });
  if (ack.status !== 202) throw new Error(`notifications/initialized: HTTP ${ack.status}: ${ack.body}`);

  const session = {
    url,
    sessionId,
    protocolVersion: negotiated,
    initResult: response.result,
    post: (message, opts = {}) => mcpPost(url, message, { sessionId, protocolVersion: negotiated, headers, ...opts }),
    async request(method, params) {
      const msg = rpc(method, params);
      const r = await session.post(msg);
      if (r.status !== 200) throw new Error(`${method}: HTTP ${r.status}: ${r.body}`);
      const reply = responseTo(r, msg.id);
      if (!reply) throw new Error(`${method}: no response with id ${msg.id} in ${r.body}`);
      return reply;
    },
  };
  return session;
}

/** Parses an error body; returns the JSON-RPC error code, or undefined when it is not one. */
export function jsonRpcErrorCode(body) {
  try {
    return JSON.parse(body)?.error?.code;
  } catch {
    return undefined;
  }
}

/** A random printable string, different in every call (tests assert it comes back exactly). */
export function randomText(prefix = 'e2e') {
  return `${prefix}-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)} ünïcødé ✓ "quoted" \\ <tag>`;
}

/**
 * A `fetch` that reports the responses to GET requests (the SDK's standalone SSE stream): the
 * returned `getStreamOpen` promise resolves with the status of the first GET response.
 */
export function fetchTrackingGetStream() {
  const opened = deferred();
  const gets = [];
  const trackingFetch = async (input, init) => {
    const res = await fetch(input, init);
    if ((init?.method ?? 'GET').toUpperCase() === 'GET') {
      gets.push(res.status);
      opened.resolve(res.status);
    }
    return res;
  };
  return { fetch: trackingFetch, getStreamOpen: opened.promise, gets };
}
