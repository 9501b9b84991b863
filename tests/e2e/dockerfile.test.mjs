// The Dockerfile (repository root) and .dockerignore, checked without a container engine
// against what they describe: the real server binary ($FRONTMCP_SERVER_BIN: its shared
// libraries by ldd, mapped to Debian packages by dpkg -S, and its --help), the repository
// (COPY sources, .dockerignore, CMake options, scripts/install-deps.sh) and a real cmake
// configure of exactly the files the build stage copies.
// Needs a Debian 12 host (dpkg; the image is Debian 12) and the build dependencies.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { serverBinary } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');
const DOCKERIGNORE = path.join(ROOT, '.dockerignore');

// ---------------------------------------------------------------------------------------------
// Dockerfile parsing (enough of the reference syntax for this file: continuation lines,
// comments, exec and shell forms, FROM ... AS ..., COPY --from=...).

/** Instructions of a Dockerfile: [{ line, instr (upper case), args (string) }]. */
function parseDockerfile(text) {
  const out = [];
  let current = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) return; // comments (and parser directives), also inside a continuation
    if (current === null) {
      if (line.trim() === '') return;
      const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
      assert.ok(m, `Dockerfile:${i + 1}: not an instruction: ${line}`);
      current = { line: i + 1, instr: m[1].toUpperCase(), args: m[2] };
    } else {
      current.args += ` ${line.trim()}`;
    }
    if (/\\\s*$/.test(current.args)) {
      current.args = current.args.replace(/\\\s*$/, '');
    } else {
      current.args = current.args.replace(/\s+/g, ' ').trim();
      out.push(current);
      current = null;
    }
  });
  assert.equal(current, null, 'Dockerfile ends inside a continued instruction');
  return out;
}

/** Instructions grouped by stage: [{ name, image, line, instructions }]. */
function stagesOf(instructions) {
  const stages = [];
  for (const ins of instructions) {
    if (ins.instr === 'FROM') {
      const words = ins.args.split(' ').filter((w) => !w.startsWith('--'));
      const m = words.length === 3 && /^as$/i.test(words[1]) ? words : null;
      stages.push({ name: m ? m[2] : undefined, image: words[0], line: ins.line, instructions: [] });
    } else {
      assert.ok(stages.length, `Dockerfile:${ins.line}: ${ins.instr} before the first FROM`);
      stages.at(-1).instructions.push(ins);
    }
  }
  return stages;
}

/** Exec form (JSON array) of CMD / ENTRYPOINT, or throws. */
function execForm(ins) {
  const v = JSON.parse(ins.args);
  assert.ok(Array.isArray(v) && v.every((s) => typeof s === 'string'), `Dockerfile:${ins.line}: ${ins.instr} in exec form`);
  return v;
}

/** Packages named by `apt-get install` in the RUN instructions of a stage. */
function aptInstalls(stage) {
  const pkgs = [];
  for (const ins of stage.instructions.filter((x) => x.instr === 'RUN')) {
    for (const m of ins.args.matchAll(/apt-get\s+install\s+([^&;|]*)/g)) {
      for (const w of m[1].trim().split(/\s+/)) if (w && !w.startsWith('-')) pkgs.push(w.replace(/=.*$/, ''));
    }
  }
  return pkgs;
}

/** COPY instructions of a stage: [{ line, from, sources, dest }]. */
function copiesOf(stage) {
  return stage.instructions
    .filter((x) => x.instr === 'COPY' || x.instr === 'ADD')
    .map((ins) => {
      const words = ins.args.trim().startsWith('[') ? JSON.parse(ins.args) : ins.args.split(' ');
      const flags = words.filter((w) => w.startsWith('--'));
      const rest = words.filter((w) => !w.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { line: ins.line, instr: ins.instr, from, sources: rest.slice(0, -1), dest: rest.at(-1) };
    });
}

// ---------------------------------------------------------------------------------------------
// .dockerignore (Docker's rules: patterns are matched against the path and each of its
// parents; `**` any number of directories; a later `!pattern` re-includes; last match wins).

function globToRegExp(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function dockerignore(text) {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      return { negate, re: globToRegExp(p) };
    });
  /** Whether the context leaves out `rel` (a path relative to the repository root). */
  return (rel) => {
    const parts = rel.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Whether --help lists `flag` exactly (not as the prefix of a longer flag). */
function hasFlag(help, flag) {
  return new RegExp(`(^|[\\s,])${flag}(?=[\\s,=]|$)`, 'm').test(help);
}

function run(cmd, args, { cwd, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr, error: err }),
    );
  });
}

/** The Debian package owning `file` (merged-/usr aware: dpkg may know /usr/lib/... only). */
async function packageOf(file) {
  for (const candidate of [file, `/usr${file}`, fs.realpathSync(file)]) {
    const r = await run('dpkg-query', ['-S', candidate], { timeoutMs: 10_000 });
    if (r.code === 0) return r.stdout.split('\n')[0].split(':')[0].split(',')[0].trim();
  }
  return undefined;
}

/** Package names in the dependency closure of `root` among installed packages (dpkg). */
async function dependencyClosure(root) {
  const seen = new Set();
  const queue = [root];
  while (queue.length) {
    const p = queue.shift();
    if (seen.has(p)) continue;
    const r = await run('dpkg-query', ['-W', '-f=${Status}|${Pre-Depends}, ${Depends}', p], { timeoutMs: 10_000 });
    if (r.code !== 0 || !r.stdout.startsWith('install ok installed')) continue; // an alternative not installed here
    seen.add(p);
    const deps = r.stdout.slice(r.stdout.indexOf('|') + 1); // after the status; alternatives use '|' too
    for (const clause of deps.split(',')) {
      for (const alt of clause.split('|')) {
        const name = alt.trim().split(/[\s(]/)[0].split(':')[0];
        if (name) queue.push(name);
      }
    }
  }
  return seen;
}

function walk(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const text = fs.readFileSync(DOCKERFILE, 'utf8');
const stages = stagesOf(parseDockerfile(text));
const build = stages.find((s) => s.name === 'build');
const runtime = stages.at(-1);
const helpText = async () => {
  const r = await run(serverBinary(), ['--help'], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, `${serverBinary()} --help: ${r.stderr}`);
  return r.stdout;
};

describe('Dockerfile', () => {
  it('has a build stage on debian:12 and a final runtime stage on debian:12-slim', () => {
    assert.deepEqual(
      stages.map((s) => [s.name, s.image]),
      [
        ['build', 'debian:12'],
        ['runtime', 'debian:12-slim'],
      ],
    );
    for (const s of stages) assert.ok(s.name, `Dockerfile:${s.line}: FROM ... AS <name>`);
  });

  it('the runtime stage runs as uid 10001 (not root), exposes the server port, stops with SIGTERM, starts frontmcp-server on 0.0.0.0', async () => {
    const last = (instr) => runtime.instructions.filter((x) => x.instr === instr).at(-1);
    const user = last('USER');
    assert.ok(user, 'the final stage sets USER');
    const [uid, gid] = user.args.split(':');
    assert.match(uid, /^\d+$/, 'numeric uid (Kubernetes runAsNonRoot checks it without /etc/passwd)');
    assert.notEqual(Number(uid), 0, 'not root');
    assert.equal(uid, '10001');
    if (gid !== undefined) assert.notEqual(Number(gid), 0, 'not the root group');
    const useradd = runtime.instructions.find((x) => x.instr === 'RUN' && /useradd/.test(x.args));
    assert.match(useradd?.args ?? '', new RegExp(`--uid ${uid}\\b`), 'the stage creates that user (a name in logs and ps)');

    const help = await helpText();
    const defaultPort = /--port[\s\S]*?\(default (\d+)\)/.exec(help)?.[1];
    assert.ok(defaultPort, `no "--port ... (default N)" in --help:\n${help}`);
    assert.equal(last('EXPOSE')?.args, defaultPort, 'EXPOSE = the server default port');
    assert.equal(last('STOPSIGNAL')?.args, 'SIGTERM');

    const entrypoint = execForm(last('ENTRYPOINT'));
    const cmd = execForm(last('CMD'));
    assert.deepEqual(entrypoint, ['frontmcp-server']);
    const argv = [...entrypoint.slice(1), ...cmd];
    assert.equal(argv[argv.indexOf('--host') + 1], '0.0.0.0', `--host 0.0.0.0 in ${JSON.stringify(argv)}`);
    for (const flag of argv.filter((a) => a.startsWith('--'))) assert.ok(hasFlag(help, flag), `${flag} is a flag of the server`);
    const copied = copiesOf(runtime).find((c) => c.from === 'build');
    assert.equal(copied?.dest, '/usr/local/bin/frontmcp-server', 'the binary lands on the default PATH under the ENTRYPOINT name');
  });

  it('the runtime stage installs the Debian package of every shared library the binary links (ldd, dpkg -S)', async (t) => {
    const osRelease = fs.readFileSync('/etc/os-release', 'utf8');
    assert.match(osRelease, /^VERSION_ID="12"$/m, 'package names are checked on Debian 12, the release of the image');
    const bin = serverBinary();
    // The image compiles with g++ (build-essential). A clang build of the same tree links a
    // different set (e.g. libboost_container), so it says nothing about the image.
    const comment = await run('readelf', ['-p', '.comment', bin], { timeoutMs: 10_000 });
    assert.equal(comment.code, 0, `readelf -p .comment ${bin}: ${comment.stderr}`);
    if (/clang version/.test(comment.stdout)) {
      t.skip(`${bin} was built by clang; the image's binary is built by g++, whose libraries this checks`);
      return;
    }
    assert.match(comment.stdout, /GCC: \(Debian 12\./, `${bin} was built by Debian 12's g++, as in the image`);
    const ldd = await run('ldd', [bin], { timeoutMs: 10_000 });
    assert.equal(ldd.code, 0, `ldd ${bin}: ${ldd.stderr}`);
    const libs = [];
    for (const line of ldd.stdout.split('\n')) {
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
      if (m) libs.push(m[1]);
      else if (/not found/.test(line)) assert.fail(`ldd ${bin}: ${line.trim()}`);
    }
    assert.ok(libs.length > 3, `ldd found libraries:\n${ldd.stdout}`);

    const needed = new Map(); // package -> libraries
    for (const lib of libs) {
      const pkg = await packageOf(lib);
      assert.ok(pkg, `dpkg -S: no package owns ${lib}`);
      needed.set(pkg, [...(needed.get(pkg) ?? []), path.basename(lib)]);
    }
    // debian:12-slim has apt (the stage runs apt-get), hence everything apt depends on.
    const base = await dependencyClosure('apt');
    assert.ok(base.has('libc6'), `apt's dependency closure: ${[...base].join(' ')}`);
    const installed = new Set(aptInstalls(runtime));
    const missing = [...needed].filter(([pkg]) => !installed.has(pkg) && !base.has(pkg));
    t.diagnostic(`linked: ${[...needed].map(([p, l]) => `${p} (${l.join(', ')})`).join('; ')}`);
    t.diagnostic(`from the base image: ${[...needed.keys()].filter((p) => base.has(p)).join(', ')}`);
    assert.deepEqual(
      missing.map(([pkg, l]) => `${pkg} (${l.join(', ')})`),
      [],
      'packages missing from the runtime stage\'s apt-get install',
    );
    // And nothing there that is neither linked nor explained in the Dockerfile's comment.
    const unexplained = [...installed].filter((p) => !needed.has(p) && p !== 'ca-certificates');
    assert.deepEqual(unexplained, [], 'runtime packages the binary does not link');
  });

  it('every COPY source is in the build context (exists, not left out by .dockerignore) or comes from the build stage', () => {
    const ignored = dockerignore(fs.readFileSync(DOCKERIGNORE, 'utf8'));
    const stageNames = new Set(stages.map((s) => s.name));
    let files = 0;
    for (const s of stages) {
      for (const c of copiesOf(s)) {
        assert.equal(c.instr, 'COPY', `Dockerfile:${c.line}: COPY, not ADD`);
        if (c.from !== undefined) {
          assert.ok(stageNames.has(c.from), `Dockerfile:${c.line}: --from=${c.from} names a stage`);
          continue;
        }
        for (const src of c.sources) {
          const rel = path.posix.normalize(src).replace(/\/$/, '');
          const abs = path.join(ROOT, rel);
          assert.ok(fs.existsSync(abs), `Dockerfile:${c.line}: COPY source ${src} does not exist`);
          const all = fs.statSync(abs).isDirectory() ? walk(abs).map((f) => `${rel}/${f}`) : [rel];
          for (const f of all) assert.equal(ignored(f), false, `Dockerfile:${c.line}: .dockerignore leaves out ${f}`);
          files += all.length;
        }
      }
    }
    assert.ok(files > 20, `the build stage copies the sources (${files} files)`);
    // The context stays small: build trees, dependencies and history are left out.
    for (const big of ['.git/HEAD', 'build/CMakeCache.txt', 'build-dist/bin/frontmcp-server', 'tests/e2e/node_modules/x', 'docs/ha.md']) {
      assert.equal(ignored(big), true, `.dockerignore leaves out ${big}`);
    }
  });

  it('build stage: install-deps.sh packages, CMake options that exist, and a configure of exactly the copied files that has the target', async (t) => {
    const deps = /APT_PACKAGES=\(([^)]*)\)/.exec(fs.readFileSync(path.join(ROOT, 'scripts/install-deps.sh'), 'utf8'));
    assert.ok(deps, 'APT_PACKAGES in scripts/install-deps.sh');
    const devPackages = new Set(deps[1].split(/\s+/).filter(Boolean));
    for (const p of aptInstalls(build)) assert.ok(devPackages.has(p), `build-stage package ${p} is one of scripts/install-deps.sh`);

    const runs = build.instructions.filter((x) => x.instr === 'RUN').map((x) => x.args);
    const buildRun = runs.find((r) => /\bcmake -S\b/.test(r));
    assert.ok(buildRun, 'a RUN with cmake -S');
    const commands = buildRun.split('&&').map((c) => c.trim().split(' '));
    const configure = commands.find((c) => c[0] === 'cmake' && c.includes('-S'));
    const buildCmd = commands.find((c) => c[0] === 'cmake' && c[1] === '--build');
    assert.ok(buildCmd, 'a cmake --build command');
    assert.ok(configure.includes('-DFRONTMCP_BUILD_TESTS=OFF') && configure.includes('-DCMAKE_BUILD_TYPE=Release') && configure.includes('Ninja'), configure.join(' '));
    assert.deepEqual(buildCmd.slice(buildCmd.indexOf('--target'), buildCmd.indexOf('--target') + 2), ['--target', 'frontmcp-server']);
    const cmakeLists = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
    for (const d of configure.filter((a) => a.startsWith('-DFRONTMCP_'))) {
      const name = d.slice(2).split('=')[0];
      assert.match(cmakeLists, new RegExp(`option\\(${name}\\b`), `${d}: CMakeLists.txt declares option ${name}`);
    }

    // Lay out the files as the COPY lines do, then run the stage's own commands there.
    const workdir = build.instructions.filter((x) => x.instr === 'WORKDIR').at(-1)?.args;
    assert.ok(workdir, 'WORKDIR in the build stage');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-docker-build-'));
    try {
      for (const c of copiesOf(build)) {
        for (const src of c.sources) {
          const dest = c.dest.endsWith('/') && !fs.statSync(path.join(ROOT, src)).isDirectory() ? path.join(c.dest, path.basename(src)) : c.dest;
          fs.cpSync(path.join(ROOT, src), path.join(dir, dest), { recursive: true });
        }
      }
      const t0 = Date.now();
      const conf = await run(configure[0], configure.slice(1), { cwd: dir, timeoutMs: 120_000 });
      assert.equal(conf.code, 0, `${configure.join(' ')} in a copy of the COPY sources:\n${conf.stdout.slice(-3000)}\n${conf.stderr.slice(-3000)}`);
      t.diagnostic(`configure of the copied tree: ${Date.now() - t0} ms`);
      // Ninja dry run of the stage's build command: the target exists and is buildable.
      const dry = await run(buildCmd[0], [...buildCmd.slice(1), '--', '-n'], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(dry.code, 0, `${buildCmd.join(' ')} -- -n:\n${dry.stdout.slice(-2000)}\n${dry.stderr.slice(-2000)}`);
      // The runtime stage copies the file this build writes.
      const fromBuild = copiesOf(runtime).find((c) => c.from === 'build');
      const rel = path.posix.relative(workdir, fromBuild.sources[0]);
      assert.ok(!rel.startsWith('..'), `${fromBuild.sources[0]} is under WORKDIR ${workdir}`);
      const targets = await run('ninja', ['-C', path.join(dir, configure[configure.indexOf('-B') + 1]), '-t', 'targets', 'all'], { timeoutMs: 30_000 });
      assert.ok(
        targets.stdout.split('\n').some((l) => l.startsWith(`${path.posix.relative(configure[configure.indexOf('-B') + 1], rel)}:`)),
        `the build writes ${rel} (COPY --from=build ${fromBuild.sources[0]})`,
      );
      const strip = commands.find((c) => c[0] === 'strip');
      if (strip) assert.equal(strip[1], rel, 'strip the file that is copied');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
