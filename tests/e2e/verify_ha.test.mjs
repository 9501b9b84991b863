// `make cluster` and `make verify-ha` as a user runs them: the real scripts/cluster.mjs and
// scripts/verify-ha.mjs as child processes, against the real binary ($FRONTMCP_SERVER_BIN),
// a real redis-server and NGINX with deploy/nginx/frontmcp.conf.
//
//  - verify-ha passes (exit 0, PASS, a failover time) and can fail (--kill all: exit 1, FAIL);
//  - cluster.mjs prints a URL that serves MCP, stops cleanly on Ctrl-C (SIGINT to its process
//    group, as a terminal sends it) and on SIGTERM to itself, leaving none of the pids it
//    printed, and even a SIGKILL of the script leaves none (its watchdog); it refuses a taken
//    port, and stops what it started when a node cannot start;
//  - verify-ha against a running cluster (its cluster.json) passes while another node is
//    alive and fails once the owner is the last node.
//
// Every wait has a deadline; nothing sleeps to synchronise.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { httpRequest, initSession, pollUntil, serverBinary, withTimeout } from './lib/harness.mjs';
import { freePort } from './lib/cluster.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');
const CLUSTER_SCRIPT = path.join(REPO, 'scripts/cluster.mjs');
const VERIFY_SCRIPT = path.join(REPO, 'scripts/verify-ha.mjs');

/** Environment of the scripts: the binary under test, nothing inherited that steers them. */
function scriptEnv(extra = {}) {
  const env = { ...process.env, FRONTMCP_SERVER_BIN: serverBinary() };
  for (const k of Object.keys(env)) if (k.startsWith('CLUSTER_') || k.startsWith('VERIFY_HA_')) delete env[k];
  return { ...env, ...extra };
}

/**
 * Starts `node script args` (own process group when `detached`, like a job in a terminal).
 * Returns { proc, output(), exited, waitForOutput(re, ms), kill(signal) }.
 */
function runScript(script, args = [], { env = {}, detached = false } = {}) {
  const proc = spawn(process.execPath, [script, ...args], { cwd: REPO, env: scriptEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  proc.stderr.setEncoding('utf8').on('data', (c) => (out += c));
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  live.add(proc);
  exited.then(() => live.delete(proc));
  return {
    proc,
    output: () => out,
    exited,
    /** Resolves to the match of `re` in the output; rejects if the script exits first. */
    async waitForOutput(re, ms) {
      const found = await Promise.race([
        pollUntil(() => re.exec(out), Boolean, ms, `output matching ${re}`),
        exited.then((r) => {
          throw new Error(`${path.basename(script)} exited (${JSON.stringify(r)}) before printing ${re}`);
        }),
      ]).catch((err) => {
        err.message += `\noutput:\n${out}`;
        throw err;
      });
      return found;
    },
  };
}

/** Waits (bounded) for a script to exit; SIGKILLs its process group on timeout. */
async function finished(run, ms) {
  try {
    return await withTimeout(run.exited, ms, `${path.basename(run.proc.spawnfile)} ${run.proc.spawnargs.slice(1).join(' ')} to exit`);
  } catch (err) {
    killGroup(run.proc, 'SIGKILL');
    err.message += `\noutput:\n${run.output()}`;
    throw err;
  }
}

function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      /* gone */
    }
  }
}

// Whatever a failed test leaves running dies with the test process (the scripts stop their
// own children on SIGTERM; the process group catches the rest).
const live = new Set();
process.once('exit', () => {
  for (const p of live) killGroup(p, 'SIGKILL');
});

/** Whether `pid` is a running process (a zombie waiting for its reaper counts as gone). */
function pidAlive(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Pids whose command line mentions `needle` (e.g. "127.0.0.1:PORT"). */
function processesMentioning(needle) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes(needle)) found.push(`${entry}: ${cmd}`);
  }
  return found;
}

/** The pids, URLs and files `make cluster` printed. */
function parseClusterOutput(out) {
  const url = /^ {2}MCP URL: (http:\/\/127\.0\.0\.1:\d+\/mcp)$/m.exec(out)?.[1];
  const nginxPid = Number(/^ {2}nginx +pid (\d+)/m.exec(out)?.[1]);
  const redis = /^ {2}redis-server +pid (\d+) +redis:\/\/127\.0\.0\.1:(\d+)/m.exec(out);
  const nodes = [...out.matchAll(/^ {2}(node-\d+) +pid (\d+) +(http:\/\/127\.0\.0\.1:\d+\/mcp) +log (\S+)$/gm)].map((m) => ({
    nodeId: m[1],
    pid: Number(m[2]),
    url: m[3],
    logFile: m[4],
  }));
  const stateFile = /^ {2}state: (\S+)$/m.exec(out)?.[1];
  return { url, nginxPid, redisPid: Number(redis?.[1]), redisPort: Number(redis?.[2]), nodes, stateFile };
}

const FREE_PORTS = { CLUSTER_PORT: '0', CLUSTER_NODE_BASE_PORT: '0', CLUSTER_REDIS_PORT: '0' };
const READY_LINE = /^Ctrl-C stops everything\.$/m;
const tempDirs = [];
after(() => {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

// ---------------------------------------------------------------------------------------------

describe('scripts/verify-ha.mjs (make verify-ha)', () => {
  it('passes: the SDK session continues on another node after SIGKILL of its owner, without re-initialize', async (t) => {
    const run = runScript(VERIFY_SCRIPT);
    const exit = await finished(run, 60_000);
    const out = run.output();
    assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${out}`);
    assert.match(out, /^PASS: session [0-9a-f]+ survived SIGKILL of node-\d/m, out);
    const failover = /^ {3}failover time +([\d.]+) ms from SIGKILL to the first successful call/m.exec(out);
    assert.ok(failover, `a failover time in the summary:\n${out}`);
    assert.ok(Number(failover[1]) < 10_000, `failover within the deadline: ${failover[1]} ms`);
    const killed = /^ {3}killed +(node-\d+) /m.exec(out)?.[1];
    const served = /^ {3}served after kill +by (node-\d+) \(first call\), now by (node-\d+); owner in Redis: (node-\d+)/m.exec(out);
    assert.ok(killed && served, out);
    for (const n of served.slice(1)) assert.notEqual(n, killed, `a live node serves and owns the session:\n${out}`);
    assert.match(out, /^ {3}re-initialize +none: 1 initialize/m);
    assert.match(out, /^6\. server->client: GET stream reconnected on node-\d .*resources\/updated after/m, 'the notification check ran');
    assert.ok(!/^FAIL/m.test(out), out);
    t.diagnostic(`verify-ha: failover ${failover[1]} ms; killed ${killed}, first served by ${served[1]}, owner now ${served[3]}`);
  });

  it('fails, exit 1 with a FAIL reason, when every node is killed (--kill all)', async () => {
    const run = runScript(VERIFY_SCRIPT, ['--kill', 'all', '--deadline-ms', '2000']);
    const exit = await finished(run, 60_000);
    const out = run.output();
    assert.equal(exit.code, 1, `exit ${JSON.stringify(exit)}\n${out}`);
    assert.match(out, /^FAIL: the session did not continue within 2000 ms of the SIGKILL \(\d+ failed attempts; last: /m, out);
    assert.match(out, /^3\. SIGKILL node-\d \(pid \d+\), node-\d \(pid \d+\), node-\d \(pid \d+\)/m, 'all three nodes were killed');
    assert.ok(!/^PASS/m.test(out), out);
    // On FAIL the script keeps its cluster's logs for the post-mortem: not needed here.
    const logs = /^node logs: (\S*frontmcp-cluster-\S+)$/m.exec(out)?.[1];
    assert.ok(logs, `the FAIL output names the kept logs:\n${out}`);
    fs.rmSync(logs, { recursive: true, force: true });
  });

  it('rejects a bad option with exit 2 and says why', async () => {
    const run = runScript(VERIFY_SCRIPT, ['--kill', 'nobody']);
    const exit = await finished(run, 10_000);
    assert.equal(exit.code, 2, run.output());
    assert.match(run.output(), /--kill nobody: expected owner or all/);
  });
});

describe('scripts/cluster.mjs (make cluster)', () => {
  for (const stop of [
    { how: 'Ctrl-C in a terminal (SIGINT to its process group)', signal: 'SIGINT', group: true },
    { how: 'SIGTERM to the script alone', signal: 'SIGTERM', group: false },
  ]) {
    it(`prints a URL that serves MCP through NGINX, and ${stop.how} stops every process it printed`, async (t) => {
      const logDir = tempDir('frontmcp-cluster-test-');
      const run = runScript(CLUSTER_SCRIPT, [], { env: { ...FREE_PORTS, CLUSTER_LOG_DIR: logDir }, detached: true });
      try {
        await run.waitForOutput(READY_LINE, 30_000);
        const c = parseClusterOutput(run.output());
        assert.ok(c.url, run.output());
        assert.deepEqual(c.nodes.map((n) => n.nodeId), ['node-1', 'node-2', 'node-3'], run.output());
        const pids = [c.nginxPid, c.redisPid, ...c.nodes.map((n) => n.pid)];
        for (const pid of pids) assert.ok(Number.isInteger(pid) && pidAlive(pid), `printed pid ${pid} is running`);
        assert.match(run.output(), /HA settings: fast \(heartbeat 100 ms, TTL 400 ms, takeover grace 200 ms\)/);

        // The URL works: a raw initialize through NGINX, answered by one of the nodes, pinned.
        const session = await initSession(c.url);
        assert.match(session.sessionId, /^[0-9a-f]+$/);
        const echo = await session.request('tools/call', { name: 'echo', arguments: { text: 'through nginx' } });
        assert.deepEqual(echo.result.content, [{ type: 'text', text: 'through nginx' }]);
        for (const n of c.nodes) {
          const r = await httpRequest(n.url.replace(/\/mcp$/, '/readyz'), { timeoutMs: 3_000 });
          assert.equal(r.status, 200, `${n.nodeId} /readyz: ${r.body}`);
        }
        const state = JSON.parse(fs.readFileSync(c.stateFile, 'utf8'));
        assert.equal(state.url, c.url);
        assert.deepEqual(state.nodes.map((n) => n.pid), c.nodes.map((n) => n.pid));

        const t0 = Date.now();
        if (stop.group) process.kill(-run.proc.pid, stop.signal);
        else run.proc.kill(stop.signal);
        const exit = await finished(run, 30_000);
        const out = run.output();
        t.diagnostic(`stopped ${Date.now() - t0} ms after ${stop.signal}`);
        assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${out}`);
        for (const name of ['nginx', 'node-1', 'node-2', 'node-3', 'redis-server']) {
          assert.match(out, new RegExp(`^ {2}stopped ${name}: exit 0$`, 'm'), `${name} stopped cleanly:\n${out}`);
        }
        assert.match(out, /^all stopped; node logs kept in /m);
        for (const pid of pids) assert.ok(!pidAlive(pid), `pid ${pid} is gone after the stop`);
        assert.deepEqual(processesMentioning(`127.0.0.1:${c.redisPort}`), [], 'no process still uses the cluster');
        assert.ok(!fs.existsSync(c.stateFile), 'the state file is removed');
        for (const n of c.nodes) assert.ok(fs.statSync(n.logFile).size > 0, `${n.logFile} kept`);
      } finally {
        killGroup(run.proc, 'SIGKILL');
      }
    });
  }

  it('SIGKILL of the script itself (no exit hook runs): its watchdog kills every process it printed and removes their temp dirs', async () => {
    const run = runScript(CLUSTER_SCRIPT, [], { env: { ...FREE_PORTS, CLUSTER_LOG_DIR: tempDir('frontmcp-cluster-test-') }, detached: true });
    try {
      await run.waitForOutput(READY_LINE, 30_000);
      const c = parseClusterOutput(run.output());
      const pids = [c.nginxPid, c.redisPid, ...c.nodes.map((n) => n.pid)];
      for (const pid of pids) assert.ok(pidAlive(pid), `printed pid ${pid} is running`);
      const state = JSON.parse(fs.readFileSync(c.stateFile, 'utf8'));
      const tempDirsOfRun = [state.nginx.dir, state.redis.dir];
      for (const d of tempDirsOfRun) assert.ok(fs.existsSync(d), `${d} exists while the cluster runs`);
      run.proc.kill('SIGKILL'); // the script only: its children are not signalled
      await finished(run, 5_000);
      await pollUntil(() => pids.filter(pidAlive), (alive) => alive.length === 0, 5_000, 'every printed pid to be gone');
      await pollUntil(() => tempDirsOfRun.filter((d) => fs.existsSync(d)), (left) => left.length === 0, 5_000, 'the nginx and redis temp dirs to be removed');
    } finally {
      killGroup(run.proc, 'SIGKILL');
    }
  });

  it('a taken port: exits 1 before starting anything, naming the variable', async () => {
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const run = runScript(CLUSTER_SCRIPT, [], {
        env: { ...FREE_PORTS, CLUSTER_PORT: String(blocker.address().port), CLUSTER_LOG_DIR: tempDir('frontmcp-cluster-test-') },
        detached: true,
      });
      const exit = await finished(run, 30_000);
      assert.equal(exit.code, 1, run.output());
      assert.match(run.output(), /port \d+ \(CLUSTER_PORT\) is in use: set CLUSTER_PORT to another port/, run.output());
    } finally {
      blocker.close();
    }
  });

  it('a node that cannot start: exits 1 naming it, and stops the Redis it had started', async () => {
    const redisPort = await freePort();
    const run = runScript(CLUSTER_SCRIPT, [], {
      env: { ...FREE_PORTS, CLUSTER_REDIS_PORT: String(redisPort), CLUSTER_LOG_DIR: tempDir('frontmcp-cluster-test-'), FRONTMCP_SERVER_BIN: '/bin/false' },
      detached: true,
    });
    const exit = await finished(run, 30_000);
    assert.equal(exit.code, 1, run.output());
    assert.match(run.output(), /node-\d did not start: /, run.output());
    assert.deepEqual(processesMentioning(`127.0.0.1:${redisPort}`), [], 'redis-server (and any node) stopped');
  });
});

describe('verify-ha against a running make cluster (VERIFY_HA_CLUSTER)', () => {
  it('passes while another node is alive, fails once the session owner is the last node', async () => {
    const logDir = tempDir('frontmcp-cluster-test-');
    const cluster = runScript(CLUSTER_SCRIPT, [], { env: { ...FREE_PORTS, CLUSTER_NODES: '2', CLUSTER_LOG_DIR: logDir }, detached: true });
    try {
      await cluster.waitForOutput(READY_LINE, 30_000);
      const c = parseClusterOutput(cluster.output());

      const first = runScript(VERIFY_SCRIPT, ['--cluster', c.stateFile]);
      const exit1 = await finished(first, 60_000);
      assert.equal(exit1.code, 0, first.output());
      assert.match(first.output(), /^PASS: /m);
      const killed = /^ {3}killed +(node-\d+) /m.exec(first.output())[1];
      await cluster.waitForOutput(new RegExp(`^! ${killed} \\(pid \\d+\\) exited \\(signal SIGKILL\\)`, 'm'), 5_000);

      const second = runScript(VERIFY_SCRIPT, ['--cluster', c.stateFile, '--deadline-ms', '2000']);
      const exit2 = await finished(second, 60_000);
      assert.equal(exit2.code, 1, second.output());
      assert.match(second.output(), /^FAIL: the session did not continue within 2000 ms/m, second.output());

      process.kill(-cluster.proc.pid, 'SIGINT');
      const exit = await finished(cluster, 30_000);
      assert.equal(exit.code, 0, cluster.output());
      for (const pid of [c.nginxPid, c.redisPid, ...c.nodes.map((n) => n.pid)]) assert.ok(!pidAlive(pid), `pid ${pid} is gone`);
    } finally {
      killGroup(cluster.proc, 'SIGKILL');
    }
  });
});
