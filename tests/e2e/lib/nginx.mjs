// A real NGINX in front of a frontmcp cluster, for the load-balancer tests.
//
// The configuration is the shipped one: deploy/nginx/frontmcp.conf (an http-context file,
// as it would sit in /etc/nginx/conf.d/) is read as text; only its generated node section
// (between the "BEGIN generated" / "END generated" markers: the upstream groups and the
// affinity cookie map), its `listen` and its `access_log` lines are replaced. Every proxy
// setting the tests exercise is therefore the one that ships. `renderNodeSection()` is the
// generator of that section; a test asserts that the shipped file's section is exactly what
// it produces for EXAMPLE_NODES, so the file and the generator cannot drift apart.
//
// The wrapper around it (main context) is test-only: `master_process off` (one process, so
// a SIGKILL of it leaves no orphaned worker holding the port), pid, logs and temp paths
// inside a private temporary directory, everything on 127.0.0.1.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, deferred, freePort, pollUntil, trackChild, withTimeout } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The shipped production example. */
export const SHIPPED_CONFIG = path.resolve(here, '../../../deploy/nginx/frontmcp.conf');

export const BEGIN_MARKER = '# ---- BEGIN generated: one entry per frontmcp node (see header) ----';
export const END_MARKER = '# ---- END generated ----';

/** The nodes of the shipped example (three pods of a StatefulSet, by address). */
export const EXAMPLE_NODES = Object.freeze([
  { nodeId: 'frontmcp-0', host: '10.0.0.11', port: 3000 },
  { nodeId: 'frontmcp-1', host: '10.0.0.12', port: 3000 },
  { nodeId: 'frontmcp-2', host: '10.0.0.13', port: 3000 },
]);

/** Passive health check of every upstream server line (see the shipped file's header). */
export const SERVER_PARAMS = 'max_fails=1 fail_timeout=2s';

function nodeIdOf(u) {
  const id = u.nodeId ?? u.name;
  if (typeof id !== 'string' || id === '') throw new Error(`upstream without a node id: ${JSON.stringify(u)}`);
  if (/["\\\s;{}$]/.test(id)) throw new Error(`node id ${JSON.stringify(id)} cannot be used as an nginx map key`);
  return id;
}

function addressOf(u) {
  const host = u.host ?? '127.0.0.1';
  if (!u.port) throw new Error(`upstream ${nodeIdOf(u)} has no port`);
  return `${host}:${u.port}`;
}

/** Name of the upstream group that prefers node `id` (an nginx identifier). */
export function pinnedGroupName(id) {
  return `frontmcp_pin_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The node-dependent part of the configuration:
 *  - `upstream frontmcp`: every node, round robin (no affinity; requests without the cookie);
 *  - with affinity, per node an `upstream frontmcp_pin_<node>` with that node first and the
 *    others as `backup` (so a dead pinned node fails over instead of answering 502), and the
 *    map from the `__frontmcp_node` cookie to that group;
 *  - without affinity, the map has only its default (round robin for every request).
 * `upstreams`: [{ nodeId, host = 127.0.0.1, port }].
 */
export function renderNodeSection(upstreams, { affinity = true } = {}) {
  if (!upstreams.length) throw new Error('no upstreams');
  const ids = upstreams.map(nodeIdOf);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate node ids: ${ids.join(', ')}`);
  const pad = Math.max(...upstreams.map((u) => addressOf(u).length));
  const line = (u, extra = '') => `    server ${addressOf(u).padEnd(pad)} ${SERVER_PARAMS}${extra};`;
  const out = [];
  out.push('upstream frontmcp {');
  out.push('    zone frontmcp 64k;');
  for (const u of upstreams) out.push(`${line(u)}  # ${nodeIdOf(u)}`);
  out.push('}');
  if (affinity) {
    for (const u of upstreams) {
      const id = nodeIdOf(u);
      const name = pinnedGroupName(id);
      out.push('');
      out.push(`upstream ${name} {`);
      out.push(`    zone ${name} 64k;`);
      out.push(`${line(u)}  # ${id}`);
      for (const other of upstreams) if (other !== u) out.push(`${line(other, ' backup')}  # ${nodeIdOf(other)}`);
      out.push('}');
    }
  }
  out.push('');
  out.push('map $cookie___frontmcp_node $frontmcp_upstream {');
  out.push('    default frontmcp;');
  if (affinity) {
    const w = Math.max(...ids.map((id) => id.length)) + 2;
    for (const id of ids) out.push(`    ${`"${id}"`.padEnd(w)} ${pinnedGroupName(id)};`);
  }
  out.push('}');
  return out.join('\n');
}

/** The generated section of a configuration text (between the markers, exclusive). */
export function nodeSectionOf(text) {
  const b = text.indexOf(BEGIN_MARKER);
  const e = text.indexOf(END_MARKER);
  if (b < 0 || e < b) throw new Error(`no "${BEGIN_MARKER}" ... "${END_MARKER}" section`);
  return text.slice(b + BEGIN_MARKER.length, e).replace(/^\n/, '').replace(/\n$/, '');
}

/**
 * The shipped configuration adapted to a test: the node section generated for `upstreams`,
 * `listen` on 127.0.0.1:`port`, the access log into `accessLog`.
 */
export function renderConfig(upstreams, { affinity = false, port, accessLog }) {
  const text = fs.readFileSync(SHIPPED_CONFIG, 'utf8');
  const b = text.indexOf(BEGIN_MARKER);
  const e = text.indexOf(END_MARKER);
  if (b < 0 || e < b) throw new Error(`${SHIPPED_CONFIG}: generated-section markers not found`);
  let out = `${text.slice(0, b + BEGIN_MARKER.length)}\n${renderNodeSection(upstreams, { affinity })}\n${text.slice(e)}`;
  let listens = 0;
  out = out.replace(/^(\s*)listen\s+[^;]*;/gm, (_, indent) => {
    listens += 1;
    return `${indent}listen 127.0.0.1:${port};`;
  });
  if (listens !== 1) throw new Error(`${SHIPPED_CONFIG}: expected exactly one listen directive, found ${listens}`);
  let logs = 0;
  out = out.replace(/^(\s*)access_log\s+\S+(\s+frontmcp\s*;)/gm, (_, indent, rest) => {
    logs += 1;
    return `${indent}access_log ${accessLog}${rest}`;
  });
  if (logs !== 1) throw new Error(`${SHIPPED_CONFIG}: expected exactly one "access_log PATH frontmcp;", found ${logs}`);
  return out;
}

/** The test-only main context around the http-context file at `include`. */
function mainConfig(dir, include) {
  const p = (name) => path.join(dir, name);
  return `# Generated by tests/e2e/lib/nginx.mjs (test wrapper around deploy/nginx/frontmcp.conf)
daemon off;
master_process off;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events {
    worker_connections 1024;
}
http {
    client_body_temp_path ${p('tmp/client_body')};
    proxy_temp_path       ${p('tmp/proxy')};
    fastcgi_temp_path     ${p('tmp/fastcgi')};
    uwsgi_temp_path       ${p('tmp/uwsgi')};
    scgi_temp_path        ${p('tmp/scgi')};
    include ${include};
}
`;
}

/** `nginx -t` of a configuration directory made by `writeConfig` (for the config test). */
export function nginxTest(dir) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const p = spawn('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (c) => (out += c));
      p.stderr.setEncoding('utf8').on('data', (c) => (out += c));
      p.once('error', reject);
      p.once('exit', (code) => resolve({ code, output: out }));
    }),
    10_000,
    'nginx -t',
  );
}

/** Writes nginx.conf (wrapper) + frontmcp.conf (`httpText`) into a fresh directory. */
export function writeConfig(httpText, prefix = 'frontmcp-nginx-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    fs.mkdirSync(path.join(dir, 'tmp', t), { recursive: true, mode: 0o777 });
    fs.chmodSync(path.join(dir, 'tmp', t), 0o777); // workers may run as nobody when we are root
  }
  fs.writeFileSync(path.join(dir, 'frontmcp.conf'), httpText);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), mainConfig(dir, path.join(dir, 'frontmcp.conf')));
  return dir;
}

/**
 * Starts NGINX in front of `upstreams` ([{ nodeId, host?, port }], e.g. cluster node handles)
 * on a free 127.0.0.1 port (or on `port` when given: one attempt, an error when it is
 * taken). `affinity: false` (default): round robin, no cookie routing;
 * `affinity: true`: the `__frontmcp_node` cookie picks the node (others as backups).
 * Resolves once the port accepts connections, to
 *   { port, url: 'http://127.0.0.1:PORT/mcp', base, dir, config, errorLog(), accessLog(),
 *     accessEntries(), close() }.
 */
export async function startNginx(upstreams, { affinity = false, startTimeoutMs = 10_000, port: fixedPort } = {}) {
  if (fixedPort) return startOnce(upstreams, { affinity, port: fixedPort, startTimeoutMs });
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(upstreams, { affinity, port, startTimeoutMs });
    } catch (err) {
      lastError = err;
      if (!/Address already in use/.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function startOnce(upstreams, { affinity, port, startTimeoutMs }) {
  const dir = writeConfig('');
  const accessPath = path.join(dir, 'access.log');
  const errorPath = path.join(dir, 'error.log');
  const config = renderConfig(upstreams, { affinity, port, accessLog: accessPath });
  fs.writeFileSync(path.join(dir, 'frontmcp.conf'), config);

  const proc = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(proc);
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (output += c));
  proc.stderr.setEncoding('utf8').on('data', (c) => (output += c));
  const failed = deferred();
  proc.once('error', (err) => failed.reject(new Error(`cannot start nginx: ${err.message}`)));
  exited.then(({ code, signal }) => {
    const log = fs.existsSync(errorPath) ? fs.readFileSync(errorPath, 'utf8') : '';
    failed.reject(new Error(`nginx exited (code ${code}, signal ${signal}) before listening:\n${output}${log}`));
  });
  failed.promise.catch(() => {});

  try {
    await Promise.race([pollUntil(() => canConnect(port), (ok) => ok, startTimeoutMs, `nginx to listen on 127.0.0.1:${port}`), failed.promise]);
  } catch (err) {
    proc.kill('SIGKILL');
    await withTimeout(exited, 5_000, 'nginx to die').catch(() => {});
    throw err;
  }

  const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '');
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    base: `http://127.0.0.1:${port}`,
    dir,
    config,
    proc,
    errorLog: () => read(errorPath),
    accessLog: () => read(accessPath),
    /** Parsed access log lines: { status, request, upstreamAddr, upstreamStatus, node, cookie }. */
    accessEntries: () =>
      read(accessPath)
        .split('\n')
        .filter(Boolean)
        .map(parseAccessLine),
    /** Fast shutdown (SIGTERM: open SSE streams are cut), SIGKILL after 5 s. */
    async close() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        try {
          await withTimeout(exited, 5_000, 'nginx to exit after SIGTERM');
        } catch {
          proc.kill('SIGKILL');
          await withTimeout(exited, 5_000, 'nginx to exit after SIGKILL').catch(() => {});
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One line of the `frontmcp` log_format of the shipped config (fields are key=value). */
export function parseAccessLine(line) {
  const field = (k) => {
    const m = new RegExp(`(?:^| )${k}=("[^"]*"|\\S*)`).exec(line);
    if (!m) return undefined;
    const v = m[1].startsWith('"') ? m[1].slice(1, -1) : m[1];
    return v === '-' ? undefined : v;
  };
  return {
    line,
    status: Number(field('status')),
    request: field('request'),
    upstreamAddr: field('upstream'),
    upstreamStatus: field('upstream_status'),
    node: field('node'),
    cookie: field('cookie'),
  };
}
