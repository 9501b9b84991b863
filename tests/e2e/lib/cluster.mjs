// Distributed-mode fixtures of the end-to-end tests: a private redis-server, frontmcp-server
// nodes in `--mode distributed` against it, a small Redis reader, and a load-balancer-like
// `fetch` for the SDK client that routes each request to a chosen node.
//
// Everything listens on 127.0.0.1 only; every wait has a deadline; nothing sleeps to
// synchronise. Processes started here are SIGKILLed when the test process exits.
//
// API (see each function for details):
//   startRedis()                     -> Redis handle { port, url, dir, proc, cli(...), command(...),
//                                       hgetall, get, pttl, exists, lrange, smembers, zscore,
//                                       stop(), restart(), pause(), resume(), close() }
//   startNode(redis, opts)           -> node: the harness's server handle (startServer) plus
//                                       { nodeId, url, base, redis, options, alive(), log(),
//                                         logLines(re), waitForLog(re, ms) }
//   startCluster(n, opts)            -> { redis, nodes, add(opts), close() }
//   killNode(node, signal)           -> { code, signal } once the process has exited
//   sessionRecord / readHeartbeat    -> parsed Redis records
//   createRouter(node, opts)         -> { fetch, target, log, ... } for the SDK's `fetch` option
//   parseSetCookie / affinityCookie  -> cookie helpers

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { deferred, freePort, pollUntil, startServer, trackChild, withTimeout } from './harness.mjs';

/** Default key prefix of distributed mode. */
export const DEFAULT_PREFIX = 'mcp:ha:';
/** Name of the affinity cookie. */
export const AFFINITY_COOKIE = '__frontmcp_node';
/** Fast cluster timings used unless a test asks otherwise. */
export const FAST = Object.freeze({ heartbeatIntervalMs: 100, heartbeatTtlMs: 400, takeoverGracePeriodMs: 200 });

export { freePort } from './harness.mjs';

// ---------------------------------------------------------------------------------------------
// RESP: one connection per command, so a Redis restart between commands needs no reconnect
// logic, and a stalled Redis only fails the command (with the deadline).

export class RedisError extends Error {}

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parses one RESP2 reply at `i`; undefined when `buf` does not hold all of it yet. */
function parseReply(buf, i) {
  if (i >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', i);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[i]);
  const line = buf.toString('utf8', i + 1, eol);
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 };
    case '-':
      return { value: new RedisError(line), next: eol + 2 };
    case ':':
      return { value: Number(line), next: eol + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const start = eol + 2;
      if (buf.length < start + n + 2) return undefined;
      return { value: buf.toString('utf8', start, start + n), next: start + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const out = [];
      let j = eol + 2;
      for (let k = 0; k < n; k++) {
        const r = parseReply(buf, j);
        if (!r) return undefined;
        out.push(r.value);
        j = r.next;
      }
      return { value: out, next: j };
    }
    default:
      throw new RedisError(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Sends one command to the Redis at 127.0.0.1:`port` and resolves to its reply: a string,
 * number, null, or an array of those; an error reply rejects with RedisError. Bounded.
 */
export function redisCommand(port, args, { timeoutMs = 3_000 } = {}) {
  const d = deferred();
  const sock = net.connect({ host: '127.0.0.1', port });
  let buf = Buffer.alloc(0);
  sock.on('connect', () => sock.write(encodeCommand(args)));
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    let r;
    try {
      r = parseReply(buf, 0);
    } catch (err) {
      d.reject(err);
      return;
    }
    if (!r) return;
    if (r.value instanceof RedisError) d.reject(r.value);
    else d.resolve(r.value);
    sock.end();
  });
  sock.on('error', (err) => d.reject(err));
  sock.on('close', () => d.reject(new Error(`redis ${port}: connection closed before a reply to ${args[0]}`)));
  return withTimeout(d.promise, timeoutMs, `redis ${port}: ${args.map(String).join(' ').slice(0, 200)}`).finally(() =>
    sock.destroy(),
  );
}

/** Runs `redis-cli -h 127.0.0.1 -p PORT ...args`; resolves to its trimmed stdout. Bounded. */
export function redisCli(port, args, { timeoutMs = 5_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args.map(String)], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout.replace(/\n$/, ''));
    });
  });
}

/** HGETALL's flat array -> object (null for a missing key). */
function pairsToObject(arr) {
  if (!arr || arr.length === 0) return null;
  const o = {};
  for (let i = 0; i + 1 < arr.length; i += 2) o[arr[i]] = arr[i + 1];
  return o;
}

// ---------------------------------------------------------------------------------------------
// redis-server

/**
 * Starts a private redis-server on a free loopback port (or on `port` when given: one
 * attempt, an error when it is taken), in its own temp dir, without persistence, and waits
 * (bounded) until it answers PING. `detached`: in its own process group, so a terminal's
 * Ctrl-C does not reach it and the caller decides when it stops (scripts/cluster.mjs stops
 * it after the nodes). Returns
 *   { port, url, dir, proc,
 *     cli(...args)      -> redis-cli stdout (trimmed string),
 *     command(...args)  -> parsed RESP reply (string | number | null | array),
 *     hgetall(key) -> object | null, get(key), pttl(key), exists(key) -> boolean,
 *     lrange(key) -> all items, smembers(key) -> sorted array, zscore(key, member) -> number | null,
 *     stop()    SIGKILL, wait for exit,
 *     restart() same port, empty data (no persistence), waits for PING,
 *     pause()   SIGSTOP (a stall), resume() SIGCONT,
 *     close()   SIGKILL and remove the temp dir }
 */
export async function startRedis({ startTimeoutMs = 10_000, port: fixedPort, detached = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-e2e-redis-'));
  const redis = { dir, proc: undefined, port: undefined, url: undefined, output: '' };

  async function launch(port) {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached },
    );
    const exited = trackChild(proc);
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (c) => (redis.output = (redis.output + c).slice(-16_384)));
    proc.stderr.on('data', (c) => (redis.output = (redis.output + c).slice(-16_384)));
    proc.once('error', () => {});
    let dead = false;
    exited.then(() => (dead = true));
    try {
      await pollUntil(
        async () => (dead ? 'exited' : await redisCommand(port, ['PING'], { timeoutMs: 500 }).catch(() => undefined)),
        (v) => v === 'PONG' || v === 'exited',
        startTimeoutMs,
        `redis-server on port ${port} to answer PING`,
      );
    } catch (err) {
      proc.kill('SIGKILL');
      err.message += `\nredis-server output:\n${redis.output}`;
      throw err;
    }
    if (dead) return undefined;
    return { proc, exited };
  }

  async function launchOnSamePort() {
    const started = await launch(redis.port);
    if (!started) throw new Error(`redis-server could not start again on port ${redis.port}:\n${redis.output}`);
    redis.proc = started.proc;
    redis.exited = started.exited;
  }

  for (let attempt = 0; ; attempt++) {
    const port = fixedPort || (await freePort());
    const started = await launch(port);
    if (started) {
      redis.port = port;
      redis.url = `redis://127.0.0.1:${port}`;
      redis.proc = started.proc;
      redis.exited = started.exited;
      break;
    }
    if (attempt >= 4 || fixedPort) throw new Error(`redis-server did not start on port ${port} (port taken?):\n${redis.output}`);
  }

  redis.command = (...args) => redisCommand(redis.port, args);
  redis.cli = (...args) => redisCli(redis.port, args);
  redis.hgetall = async (key) => pairsToObject(await redis.command('HGETALL', key));
  redis.get = (key) => redis.command('GET', key);
  redis.pttl = (key) => redis.command('PTTL', key);
  redis.exists = async (key) => (await redis.command('EXISTS', key)) === 1;
  redis.lrange = (key) => redis.command('LRANGE', key, 0, -1);
  redis.smembers = async (key) => (await redis.command('SMEMBERS', key)).sort();
  redis.zscore = async (key, member) => {
    const v = await redis.command('ZSCORE', key, member);
    return v === null ? null : Number(v);
  };
  /** Redis TIME in ms. */
  redis.timeMs = async () => {
    const [s, us] = await redis.command('TIME');
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };
  redis.running = () => redis.proc.exitCode === null && redis.proc.signalCode === null;
  redis.stop = async () => {
    if (redis.running()) redis.proc.kill('SIGKILL');
    await withTimeout(redis.exited, 5_000, 'redis-server to exit after SIGKILL');
  };
  redis.restart = async () => {
    await redis.stop();
    await launchOnSamePort();
  };
  redis.pause = () => {
    redis.proc.kill('SIGSTOP');
  };
  redis.resume = () => {
    redis.proc.kill('SIGCONT');
  };
  redis.close = async () => {
    if (redis.running()) {
      redis.proc.kill('SIGCONT');
      redis.proc.kill('SIGKILL');
    }
    await withTimeout(redis.exited, 5_000, 'redis-server to exit').catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return redis;
}

// ---------------------------------------------------------------------------------------------
// Redis records of distributed mode

/**
 * The session record `{prefix}session:{sid}` parsed: { nodeId, epoch (number),
 * reassignedAt (number | undefined), reassignedFrom, state (parsed JSON | undefined), raw },
 * or null when the key does not exist.
 */
export async function sessionRecord(redis, sessionId, prefix = DEFAULT_PREFIX) {
  const h = await redis.hgetall(`${prefix}session:${sessionId}`);
  if (!h) return null;
  let state;
  if (h.state !== undefined && h.state !== '') {
    try {
      state = JSON.parse(h.state);
    } catch {
      state = h.state;
    }
  }
  return {
    nodeId: h.nodeId,
    epoch: h.epoch === undefined ? undefined : Number(h.epoch),
    reassignedAt: h.reassignedAt === undefined ? undefined : Number(h.reassignedAt),
    reassignedFrom: h.reassignedFrom,
    state,
    raw: h,
  };
}

/** The heartbeat value of a node, parsed (null when the key does not exist). */
export async function readHeartbeat(redis, nodeId, prefix = DEFAULT_PREFIX) {
  const v = await redis.get(`${prefix}heartbeat:${nodeId}`);
  return v === null ? null : JSON.parse(v);
}

// ---------------------------------------------------------------------------------------------
// Nodes

/** Flags of `args` ("--x value" or "--x=value"), to leave out defaults the caller overrides. */
function flagsIn(args) {
  return new Set(args.filter((a) => typeof a === 'string' && a.startsWith('--')).map((a) => a.split('=')[0]));
}

/**
 * Starts one frontmcp-server node in distributed mode against `redis` (a handle of
 * startRedis, or anything with a `url`). Options:
 *   nodeId (required), port (default: a free one), args (extra flags; a flag given here
 *   replaces the default of the same name), env, heartbeatIntervalMs / heartbeatTtlMs /
 *   takeoverGracePeriodMs (default FAST), keyPrefix, logLevel (default info),
 *   modeFromEnv (select distributed mode with FRONTMCP_DEPLOYMENT_MODE instead of --mode),
 *   startTimeoutMs, stopTimeoutMs.
 * Returns the harness's server handle (proc, exited, url, base, port, stderr(), stop(), ...)
 * plus { nodeId, redis, options, alive(), log(), logLines(re), waitForLog(re, ms) }.
 * `log()` is the node's whole stderr (the harness keeps only a tail).
 */
export async function startNode(redis, opts = {}) {
  const {
    nodeId,
    port,
    args = [],
    env,
    heartbeatIntervalMs = FAST.heartbeatIntervalMs,
    heartbeatTtlMs = FAST.heartbeatTtlMs,
    takeoverGracePeriodMs = FAST.takeoverGracePeriodMs,
    keyPrefix,
    logLevel = 'info',
    modeFromEnv = false,
    startTimeoutMs,
    stopTimeoutMs,
  } = opts;
  if (!nodeId) throw new Error('startNode: nodeId is required');
  const given = flagsIn(args);
  const defaults = [
    ['--mode', 'distributed'],
    ['--redis', redis.url],
    ['--node-id', nodeId],
    ['--heartbeat-interval-ms', heartbeatIntervalMs],
    ['--heartbeat-ttl-ms', heartbeatTtlMs],
    ['--takeover-grace-period-ms', takeoverGracePeriodMs],
    ['--log-level', logLevel],
  ];
  if (keyPrefix !== undefined) defaults.push(['--redis-key-prefix', keyPrefix]);
  // The harness starts with "--port 0"; a fixed port is a second --port the CLI takes last.
  if (port !== undefined) defaults.push(['--port', port]);
  const full = [];
  for (const [flag, value] of defaults) {
    if (flag === '--mode' && modeFromEnv) continue;
    if (!given.has(flag)) full.push(flag, String(value));
  }
  full.push(...args.map(String));
  const environment = { ...env };
  if (modeFromEnv) environment.FRONTMCP_DEPLOYMENT_MODE = 'distributed';

  const server = await startServer(full, { env: environment, startTimeoutMs, stopTimeoutMs });
  // The whole stderr from here on (the harness's buffer is a tail); both read in one tick.
  let text = server.stderr();
  server.proc.stderr.on('data', (c) => (text += c));

  return Object.assign(server, {
    nodeId,
    redis,
    options: { ...opts, args },
    alive: () => server.proc.exitCode === null && server.proc.signalCode === null,
    log: () => text,
    logLines: (re) => text.split('\n').filter((l) => re.test(l)),
    /** Waits (bounded) until a line of the node's stderr matches `re`; resolves to it. */
    waitForLog: async (re, ms = 5_000) => {
      const found = await pollUntil(
        () => text.split('\n').find((l) => re.test(l)),
        (l) => l !== undefined,
        ms,
        `a log line of ${nodeId} matching ${re}`,
      ).catch((err) => {
        err.message += `\nlog of ${nodeId}:\n${text.slice(-8_000)}`;
        throw err;
      });
      return found;
    },
  });
}

/**
 * Sends `signal` (default SIGKILL) to a node and waits (bounded) until it has exited;
 * resolves to { code, signal }. A node that already exited resolves at once.
 */
export async function killNode(node, signal = 'SIGKILL', { timeoutMs = 10_000 } = {}) {
  if (node.alive()) node.proc.kill(signal);
  try {
    return await withTimeout(node.exited, timeoutMs, `${node.nodeId} to exit after ${signal}`);
  } catch (err) {
    node.proc.kill('SIGKILL');
    await withTimeout(node.exited, 5_000, `${node.nodeId} to exit after SIGKILL`).catch(() => {});
    err.message += `\nlog of ${node.nodeId}:\n${node.log().slice(-8_000)}`;
    throw err;
  }
}

/**
 * Starts a Redis (unless `opts.redis` is given) and `n` nodes in parallel. Options: those of
 * startNode (applied to every node), `nodeIds` (default e2e-node-1..n), `redis`.
 * Returns { redis, nodes, add(nodeOpts) (starts one more node, closed with the rest),
 * close() (SIGKILLs every node, then the Redis this call started) }.
 */
export async function startCluster(n, opts = {}) {
  const { redis: given, nodeIds, ...nodeOpts } = opts;
  const redis = given ?? (await startRedis());
  const ids = nodeIds ?? Array.from({ length: n }, (_, i) => `e2e-node-${i + 1}`);
  const all = [];
  const cluster = {
    redis,
    nodes: [],
    async add(more = {}) {
      const node = await startNode(redis, { ...nodeOpts, ...more });
      all.push(node);
      return node;
    },
    async close() {
      await Promise.all(all.map((node) => killNode(node, 'SIGKILL').catch(() => {})));
      if (!given) await redis.close();
    },
  };
  try {
    cluster.nodes = await Promise.all(ids.map((nodeId) => cluster.add({ nodeId })));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// Routing fetch (a load balancer in miniature) and cookies

/** Parses one Set-Cookie value: { name, value, attributes: { lower-case name: value | true } }. */
export function parseSetCookie(header) {
  const [pair, ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    if (i < 0) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** The affinity cookie among a response's Set-Cookie values (parsed), or undefined. */
export function affinityCookie(setCookies) {
  return (setCookies ?? []).map(parseSetCookie).find((c) => c.name === AFFINITY_COOKIE);
}

function jsonRpcOf(body) {
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Whether a JSON-RPC message (or batch) holds only responses (what a client answers). */
export function isResponseOnly(message) {
  const msgs = Array.isArray(message) ? message : [message];
  return msgs.length > 0 && msgs.every((m) => m && typeof m === 'object' && !('method' in m) && ('result' in m || 'error' in m));
}

/**
 * A `fetch` for the SDK transport that sends each request to a node instead of the URL's
 * origin, and records every exchange. The node is `route(request)` when that returns one,
 * else `router.target` (settable: "the load balancer now sends this client elsewhere").
 * `request` = { method, url, headers, message (parsed JSON body) }.
 * router.log: [{ method, node, url, message, status, headers, setCookies, error, done }], where
 * `done` resolves once the response headers (or an error) arrived: a client's answer to a
 * server request may be consumed by the server before that node has answered the POST.
 */
export function createRouter(target, { route } = {}) {
  const router = {
    target,
    log: [],
    /** Entries of the log that match `pred`. */
    find: (pred) => router.log.filter(pred),
    fetch: async (input, init = {}) => {
      const original = new URL(input instanceof Request ? input.url : String(input));
      const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const message = jsonRpcOf(init.body);
      const headers = new Headers(init.headers);
      const node = route?.({ method, url: original, headers, message }) ?? router.target;
      const url = new URL(original.pathname + original.search, node.base);
      const entry = { method, node: node.nodeId, url: url.href, message, status: undefined, headers: undefined, setCookies: [] };
      const settled = deferred();
      entry.done = settled.promise; // resolves once the response headers (or an error) arrived
      router.log.push(entry);
      try {
        const res = await fetch(url, init);
        entry.status = res.status;
        entry.headers = res.headers;
        entry.setCookies = res.headers.getSetCookie();
        return res;
      } catch (err) {
        entry.error = err;
        throw err;
      } finally {
        settled.resolve(entry);
      }
    },
  };
  return router;
}

// ---------------------------------------------------------------------------------------------
// Bounded observation

/**
 * Probes `probe()` every `intervalMs` for `ms` and rejects as soon as `holds(value)` is false
 * (with the value seen); resolves to the number of probes once the time is up. For "nothing
 * changes during this window" checks: bounded, and it fails at the first violation.
 */
export async function holdsFor(probe, holds, ms, what, intervalMs = 25) {
  const deadline = Date.now() + ms;
  let probes = 0;
  for (;;) {
    const v = await probe();
    probes++;
    if (!holds(v)) throw new Error(`${what} stopped holding after ${probes} probes; value: ${JSON.stringify(v)}`);
    if (Date.now() >= deadline) return probes;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `s` with the characters special in a RegExp escaped. */
export function escapeRegExp(s) {
  return String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs `body(cluster)` on a fresh cluster of `n` nodes (startCluster options `opts`) and
 * closes it afterwards; a failure gets the tail of every node's log appended to its stack.
 */
export async function withCluster(n, opts, body) {
  const cluster = await startCluster(n, opts);
  try {
    await body(cluster);
  } catch (err) {
    let logs = '';
    for (const node of cluster.nodes) logs += `\n--- log of ${node.nodeId} (tail) ---\n${node.log().slice(-4_000)}`;
    if (err instanceof Error) err.stack = `${err.stack}${logs}`;
    throw err;
  } finally {
    await cluster.close();
  }
}
