// Judging a run of the conformance suite 0.2.x (`--requirements REV`) on its scored scenarios.
//
// 0.2.x runs, besides the scenarios a spec revision requires, scenarios it reports but never
// scores (the tasks extension, pending ones; the requirements yaml lists them under
// `not_scored`). Its closing `Total: N passed, M failed` line counts the checks of all of them,
// so it cannot be the verdict. The verdict here is per scored scenario, read from the
// scenario's checks.json:
//   - passed: its checks.json exists and no check is FAILURE or WARNING;
//   - failed: a FAILURE check, a WARNING check (as conformance.mjs has always counted them for
//     0.1.16: a WARNING is a SHOULD the server does not meet), or no checks.json at all (the
//     scenario did not run or did not finish).
// Scenarios that are not scored are summarised for information only.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { withTimeout } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Starts the conformance suite (`args` after node: the suite's script and its arguments) in
 * tests/e2e; its stdout and stderr are collected (and echoed with `echo`). Returns
 * { child, done (resolves to { code, signal }), output() }.
 */
export function spawnSuite(args, { echo = false } = {}) {
  const child = spawn(process.execPath, args, { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (sink) => (chunk) => {
    output += chunk;
    if (echo) sink.write(chunk);
  };
  child.stdout.setEncoding('utf8').on('data', collect(process.stdout));
  child.stderr.setEncoding('utf8').on('data', collect(process.stderr));
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, done, output: () => output };
}

/** spawnSuite, awaited for at most `timeoutMs` (killed if still running): { code, signal, output }. */
export async function runSuite(args, timeoutMs) {
  const run = spawnSuite(args);
  try {
    const exit = await withTimeout(run.done, timeoutMs, 'the conformance suite to finish');
    return { ...exit, output: run.output() };
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  }
}

/** The 0.2.x package, installed beside 0.1.16 as an npm alias (package.json). */
export const NEXT_PACKAGE_DIR = path.join(here, '../node_modules/@modelcontextprotocol/conformance-next');
export const NEXT_SUITE = path.join(NEXT_PACKAGE_DIR, 'dist/index.js');

/** Version of the installed 0.2.x package (for the summary line). */
export function nextSuiteVersion() {
  return JSON.parse(fs.readFileSync(path.join(NEXT_PACKAGE_DIR, 'package.json'), 'utf8')).version;
}

/**
 * The server scenarios revision `rev` requires (scored), and those it runs without scoring,
 * from the package's frozen requirements/<rev>.yaml (what `conformance list --server
 * --requirements REV` prints).
 */
export function serverRequirements(rev) {
  const file = path.join(NEXT_PACKAGE_DIR, 'requirements', `${rev}.yaml`);
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  const scored = doc.server ?? [];
  const notScored = (doc.not_scored ?? []).filter((e) => e.leg === 'server').map((e) => ({ scenario: e.scenario, reason: e.reason }));
  if (!Array.isArray(scored) || scored.length === 0) throw new Error(`${file}: no scored server scenarios`);
  return { scored, notScored };
}

// Result directories are named server-<scenario>-<ISO timestamp with - for : and .>.
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/** Map scenario -> checks (array) of every scenario that left a checks.json in `outDir`. */
export function checksByScenario(outDir) {
  const found = new Map();
  for (const entry of fs.readdirSync(outDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const m = RESULT_DIR.exec(entry.name);
    const file = path.join(outDir, entry.name, 'checks.json');
    if (!m || !fs.existsSync(file)) continue;
    const checks = JSON.parse(fs.readFileSync(file, 'utf8'));
    found.set(m[1], Array.isArray(checks) ? checks : []);
  }
  return found;
}

/**
 * Verdict of one run: { scored: [{ scenario, ok, problems: [string] }], notScored: [...same] }.
 * `problems` lists the FAILURE and WARNING checks (id: message), or why there is no result.
 */
export function judge(rev, outDir) {
  const { scored, notScored } = serverRequirements(rev);
  const checks = checksByScenario(outDir);
  const verdict = (scenario) => {
    const list = checks.get(scenario);
    if (!list) return { scenario, ok: false, problems: ['no checks.json (the scenario did not run or did not finish)'] };
    const problems = list
      .filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
      .map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? c.description ?? ''}`.trim());
    return { scenario, ok: problems.length === 0, problems, warningsOnly: problems.length > 0 && list.every((c) => c.status !== 'FAILURE') };
  };
  return {
    scored: scored.map(verdict),
    notScored: notScored.map((e) => ({ ...verdict(e.scenario), reason: e.reason })),
  };
}
