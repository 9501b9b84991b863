// A real HAProxy in front of a frontmcp cluster, for the HAProxy load-balancer test.
//
// The configuration is the shipped one, unchanged: deploy/haproxy/haproxy.cfg takes its
// listen addresses and its three nodes (address + node id) from environment variables, so
// this file only sets those (on free 127.0.0.1 ports) and runs `haproxy -f FILE -db`
// (foreground, one process: a SIGKILL of it leaves nothing behind). HAProxy's request log
// goes to its stdout (the file's `log stdout`), which is kept here and parsed.
//
// Everything listens on 127.0.0.1; every wait has a deadline.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, deferred, freePort, httpRequest, pollUntil, trackChild, withTimeout } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The shipped production example. */
export const SHIPPED_CONFIG = path.resolve(here, '../../../deploy/haproxy/haproxy.cfg');

/** Number of `server` lines in the shipped file (FRONTMCP_NODE_0 .. _2). */
export const NODE_SLOTS = 3;

/** HAProxy's name of the server in slot `i` (the shipped file's `server` lines). */
export const serverName = (i) => `frontmcp-${i}`;

/**
 * The environment that points the shipped file at `nodes` ([{ nodeId, host?, port }], e.g.
 * cluster node handles) and at the given loopback ports.
 */
export function configEnv(nodes, { port, statsPort }) {
  if (nodes.length !== NODE_SLOTS) throw new Error(`the shipped haproxy.cfg has ${NODE_SLOTS} server slots, got ${nodes.length} nodes`);
  const env = {
    FRONTMCP_HAPROXY_BIND: `127.0.0.1:${port}`,
    FRONTMCP_HAPROXY_STATS_BIND: `127.0.0.1:${statsPort}`,
  };
  nodes.forEach((n, i) => {
    env[`FRONTMCP_NODE_${i}_ADDR`] = `${n.host ?? '127.0.0.1'}:${n.port}`;
    env[`FRONTMCP_NODE_${i}_ID`] = n.nodeId;
  });
  return env;
}

/** `haproxy -c -f FILE` with `env` added to ours: { code, output }. Bounded. */
export function haproxyCheck(env = {}, file = SHIPPED_CONFIG) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const p = spawn('haproxy', ['-c', '-f', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (c) => (out += c));
      p.stderr.setEncoding('utf8').on('data', (c) => (out += c));
      p.once('error', reject);
      p.once('exit', (code) => resolve({ code, output: out }));
    }),
    10_000,
    'haproxy -c',
  );
}

/** One line of the shipped file's log-format (key=value fields; request is quoted). */
export function parseLogLine(line) {
  const field = (k) => {
    const m = new RegExp(`(?:^| )${k}=("[^"]*"|\\S*)`).exec(line);
    if (!m) return undefined;
    const v = m[1].startsWith('"') ? m[1].slice(1, -1) : m[1];
    return v === '-' || v === '' ? undefined : v;
  };
  return {
    line,
    status: Number(field('status')),
    request: field('request'),
    server: field('server'),
    retries: field('retries'),
    term: field('term'),
    node: field('node'),
    cookie: field('cookie'),
  };
}

/**
 * Parses HAProxy's `/stats;csv` into rows keyed by column name. `check_status` loses the
 * "* " HAProxy puts in front of it while a check is running (the value is the last result).
 */
export function parseStatsCsv(text) {
  const lines = text.split('\n').filter(Boolean);
  const header = lines[0].replace(/^# /, '').split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    if (typeof row.check_status === 'string') row.check_status = row.check_status.replace(/^\* /, '');
    return row;
  });
}

/**
 * Starts HAProxy with the shipped configuration in front of `nodes` (exactly NODE_SLOTS of
 * them) on free 127.0.0.1 ports. Resolves once it listens and (`waitUp`, default) its health
 * checks report every server UP, to
 *   { port, url: 'http://127.0.0.1:PORT/mcp', base, statsBase, env, proc,
 *     output(), entries() (parsed log lines), servers() (backend rows of /stats;csv),
 *     waitServer(i, status, ms), close() }.
 */
export async function startHaproxy(nodes, { waitUp = true, startTimeoutMs = 10_000 } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let statsPort = await freePort();
    while (statsPort === port) statsPort = await freePort();
    try {
      return await startOnce(nodes, { port, statsPort, waitUp, startTimeoutMs });
    } catch (err) {
      lastError = err;
      if (!/cannot bind|Address already in use/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function startOnce(nodes, { port, statsPort, waitUp, startTimeoutMs }) {
  const env = configEnv(nodes, { port, statsPort });
  const proc = spawn('haproxy', ['-f', SHIPPED_CONFIG, '-db'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(proc);
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (output += c));
  proc.stderr.setEncoding('utf8').on('data', (c) => (output += c));
  const failed = deferred();
  proc.once('error', (err) => failed.reject(new Error(`cannot start haproxy: ${err.message}`)));
  exited.then(({ code, signal }) => failed.reject(new Error(`haproxy exited (code ${code}, signal ${signal}):\n${output}`)));
  failed.promise.catch(() => {});

  const base = `http://127.0.0.1:${port}`;
  const statsBase = `http://127.0.0.1:${statsPort}`;
  const servers = async () => {
    const r = await httpRequest(`${statsBase}/stats;csv`, { timeoutMs: 3_000 });
    if (r.status !== 200) throw new Error(`GET /stats;csv: HTTP ${r.status}`);
    return parseStatsCsv(r.body).filter((row) => row.pxname === 'frontmcp' && row.svname.startsWith('frontmcp-'));
  };
  const handle = {
    port,
    url: `${base}/mcp`,
    base,
    statsBase,
    env,
    proc,
    output: () => output,
    /** Parsed request log lines (the shipped log-format). */
    entries: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('time='))
        .map(parseLogLine),
    servers,
    /** Waits (bounded) until server slot `i` has the given status (UP, DOWN, ...); resolves to its row. */
    waitServer: (i, status, ms = 10_000) =>
      pollUntil(
        async () => (await servers().catch(() => [])).find((r) => r.svname === serverName(i)),
        (row) => row?.status === status,
        ms,
        `HAProxy to report ${serverName(i)} ${status}`,
      ),
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM'); // hard stop: open streams are cut
        try {
          await withTimeout(exited, 5_000, 'haproxy to exit after SIGTERM');
        } catch {
          proc.kill('SIGKILL');
          await withTimeout(exited, 5_000, 'haproxy to exit after SIGKILL').catch(() => {});
        }
      }
    },
  };

  try {
    await Promise.race([
      pollUntil(async () => (await canConnect(port)) && (await canConnect(statsPort)), (ok) => ok, startTimeoutMs, `haproxy to listen on 127.0.0.1:${port} and :${statsPort}`),
      failed.promise,
    ]);
    if (waitUp) {
      // Servers are UP from the start: also wait for the first passed check (L7OK = /readyz 200).
      const rows = () => servers().catch((err) => String(err.message));
      const allUp = (r) => Array.isArray(r) && r.length === NODE_SLOTS && r.every((x) => x.status === 'UP' && x.check_status === 'L7OK');
      await Promise.race([pollUntil(rows, allUp, startTimeoutMs, 'every server UP with a passed /readyz check in /stats;csv'), failed.promise]);
    }
  } catch (err) {
    proc.kill('SIGKILL');
    await withTimeout(exited, 5_000, 'haproxy to die').catch(() => {});
    err.message += `\nhaproxy output:\n${output.slice(-4000)}`;
    throw err;
  }
  return handle;
}
