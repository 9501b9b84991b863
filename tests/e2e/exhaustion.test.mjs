// Resource exhaustion (issue 11): the server under hostile load keeps its resources bounded
// and keeps answering. Real binary, real sockets on 127.0.0.1.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { describe, it } from 'node:test';
import { httpRequest, pollUntil, serverBinary, trackChild, withTimeout } from './lib/harness.mjs';

/** Starts the server under `ulimit -n <fds>`; resolves to { proc, port, stderr(), exited, stop() }. */
async function startWithDescriptorLimit(fds, args = []) {
  const proc = spawn('bash', ['-c', `ulimit -n ${fds}; exec "$0" "$@"`, serverBinary(), '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = trackChild(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const port = await pollUntil(() => /listening on http:\/\/[^:]+:(\d+)/.exec(stdout)?.[1], Boolean, 10_000, 'the listening line');
  return {
    proc,
    port: Number(port),
    exited,
    stderr: () => stderr,
    stop: async () => {
      proc.kill('SIGKILL');
      await withTimeout(exited, 5_000, 'the server to exit').catch(() => {});
    },
  };
}

/** CPU seconds (user + system) the process used so far. */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
}

function openIdle(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

describe('resource exhaustion', () => {
  it('out of descriptors: no accept spin, no log flood, /healthz still answers (ulimit -n 256, 400 idle connections)', async () => {
    const server = await startWithDescriptorLimit(256);
    const sockets = [];
    try {
      for (let i = 0; i < 400; i++) sockets.push(await openIdle(server.port));
      const logBefore = server.stderr().length;
      const cpuBefore = await cpuSeconds(server.proc.pid);
      const t0 = Date.now();
      const health = await httpRequest(`http://127.0.0.1:${server.port}/healthz`, { timeoutMs: 2_000 });
      assert.ok(Date.now() - t0 < 1_000, `/healthz answered in ${Date.now() - t0} ms`);
      assert.ok([200, 503].includes(health.status), `/healthz: ${health.status}`);
      await new Promise((r) => setTimeout(r, 1_000)); // a window to measure spinning in
      const cpu = (await cpuSeconds(server.proc.pid)) - cpuBefore;
      const logged = server.stderr().length - logBefore;
      assert.ok(cpu < 0.3, `the server used ${cpu.toFixed(2)} s of CPU in ~1 s while idle connections waited (a spinning accept loop uses a whole core)`);
      assert.ok(logged < 4_000, `${logged} bytes of log in ~1 s`);
      assert.match(server.stderr(), /connection limit lowered from 10000 to 192: the descriptor limit \(ulimit -n\) is 256/);
    } finally {
      for (const s of sockets) s.destroy();
      await server.stop();
    }
  });
});
