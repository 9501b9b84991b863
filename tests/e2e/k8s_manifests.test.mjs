// deploy/k8s/*.yaml, checked without a cluster:
// - every document parses (YAML 1.1, as kubectl reads it: an unquoted `on` is a boolean) and
//   validates against the Kubernetes API schemas shipped by the npm package
//   kubernetes-models (generated from the Kubernetes OpenAPI spec: types, required fields,
//   enums, formats), and type-checks (TypeScript) against that package's generated types,
//   which rejects fields the API does not know (`readinesProbe`, `readOnlyRootFileSystem`);
// - what no schema can see: selectors, ports and names that agree across the files, the
//   probes and flags against the real server binary (started with the Deployment's own
//   args and env on loopback against a private redis-server), the grace period against
//   the preStop sleep and the server's drain, the Ingress affinity and streaming settings,
//   and a kustomization that lists every file.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { httpRequest, initSession, initializeRequest, mcpPost, openSse, pollUntil, serverBinary, startServer, withTimeout } from './lib/harness.mjs';
import { AFFINITY_COOKIE, DEFAULT_PREFIX, affinityCookie, startRedis } from './lib/cluster.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const K8S = path.join(ROOT, 'deploy/k8s');

// ---------------------------------------------------------------------------------------------
// Loading

/** Every document of every *.yaml file: [{ file, index, where, doc }]. */
function loadAll() {
  const out = [];
  for (const file of fs.readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const text = fs.readFileSync(path.join(K8S, file), 'utf8');
    YAML.parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: true }).forEach((d, index) => {
      const where = `deploy/k8s/${file}#${index}`;
      assert.deepEqual([...d.errors, ...d.warnings].map(String), [], `${where}: YAML errors`);
      const doc = d.toJS();
      if (doc !== null) out.push({ file, index, where, doc });
    });
  }
  return out;
}

const all = loadAll();
const kustomization = all.find((d) => d.doc.kind === 'Kustomization');
const objects = all.filter((d) => d !== kustomization);
const find = (kind, name) => objects.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name)?.doc;
const frontmcp = find('Deployment', 'frontmcp');
const redisDeployment = find('Deployment', 'frontmcp-redis');
const deployments = objects.filter((d) => d.doc.kind === 'Deployment');

/** Whether a label selector ({ matchLabels, matchExpressions }) selects `labels`. */
function selects(selector, labels = {}) {
  const ml = selector?.matchLabels ?? {};
  if (Object.keys(ml).length === 0 && !(selector?.matchExpressions?.length)) return false; // empty: not our style
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A Service's `selector` is a plain map. */
const selectsMap = (map, labels) => selects({ matchLabels: map }, labels);

const podLabels = (deployment) => deployment.spec.template.metadata.labels;
const containerOf = (deployment, name) => deployment.spec.template.spec.containers.find((c) => c.name === name) ?? deployment.spec.template.spec.containers[0];

/** The container port a probe / targetPort refers to (a number or a port name). */
function resolvePort(container, port) {
  if (typeof port === 'number') return container.ports?.find((p) => p.containerPort === port)?.containerPort ?? port;
  const named = container.ports?.find((p) => p.name === port);
  assert.ok(named, `container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

/** The value of `--flag` in an argv (the CLI's last one wins), or undefined. */
function flagValue(argv, flag) {
  let v;
  argv.forEach((a, i) => {
    if (a === flag) v = argv[i + 1];
    else if (a.startsWith(`${flag}=`)) v = a.slice(flag.length + 1);
  });
  return v;
}

/** Seconds the preStop hook takes: exec ["sleep", N] or the sleep action. */
function preStopSeconds(container) {
  const pre = container.lifecycle?.preStop;
  assert.ok(pre, `container ${container.name} has a preStop hook`);
  if (pre.sleep) return Number(pre.sleep.seconds);
  const cmd = pre.exec?.command ?? [];
  assert.equal(cmd[0], 'sleep', `preStop runs sleep: ${JSON.stringify(cmd)}`);
  assert.match(String(cmd[1]), /^\d+$/, 'sleep takes whole seconds');
  return Number(cmd[1]);
}

/** A default of the server that --help may not state (older binaries): from options.hpp. */
function optionsDefaultMs(field) {
  const text = fs.readFileSync(path.join(ROOT, 'include/frontmcp/options.hpp'), 'utf8');
  const m = new RegExp(`${field}\\{([\\d']+)\\}`).exec(text);
  return m ? Number(m[1].replaceAll("'", '')) : undefined;
}

/** Whether --help lists `flag` exactly (not as the prefix of a longer flag). */
function hasFlag(help, flag) {
  return new RegExp(`(^|[\\s,])${flag}(?=[\\s,=]|$)`, 'm').test(help);
}

function run(cmd, args, { cwd, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let help;
async function serverHelp() {
  if (help === undefined) {
    const r = await run(serverBinary(), ['--help'], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, `${serverBinary()} --help: ${r.stderr}`);
    help = r.stdout;
  }
  return help;
}

/** "(default X)" of a flag in --help (a string), or undefined when the flag or its default is not there. */
async function helpDefault(flag) {
  const m = new RegExp(`^\\s*${flag}\\b[^\\n]*(?:\\n\\s{20,}[^\\n]*)*?\\(default ([^)\\s]+)\\)`, 'm').exec(await serverHelp());
  return m?.[1];
}

/** "(default N)" of a flag in --help, as a number (asserted present). */
async function serverDefault(flag) {
  const v = await helpDefault(flag);
  assert.ok(v !== undefined && /^\d+$/.test(v), `no "${flag} ... (default N)" in --help`);
  return Number(v);
}

/**
 * How the frontmcp container shuts down, from its own flags or the server defaults (ms):
 * { shutdownDelay (--shutdown-delay-ms: /readyz 503 while still serving), drain
 * (--drain-timeout-ms) }.
 */
async function shutdownTimes(args) {
  const given = (flag) => (flagValue(args, flag) === undefined ? undefined : Number(flagValue(args, flag)));
  const drain = given('--drain-timeout-ms') ?? Number((await helpDefault('--drain-timeout-ms')) ?? optionsDefaultMs('drain_timeout'));
  const shutdownDelay = given('--shutdown-delay-ms') ?? Number((await helpDefault('--shutdown-delay-ms')) ?? optionsDefaultMs('shutdown_delay') ?? 0);
  assert.ok(Number.isFinite(drain) && Number.isFinite(shutdownDelay), `drain ${drain} ms, shutdown delay ${shutdownDelay} ms`);
  return { drain, shutdownDelay };
}

/** The probe paths the server answers with these args: its flags, else its defaults. */
async function probePaths(args) {
  return {
    healthz: flagValue(args, '--healthz-path') ?? (await helpDefault('--healthz-path')) ?? '/healthz',
    readyz: flagValue(args, '--readyz-path') ?? (await helpDefault('--readyz-path')) ?? '/readyz',
  };
}

const argsOf = (c) => [...(c.command ?? []), ...(c.args ?? [])];

// ---------------------------------------------------------------------------------------------

describe('deploy/k8s: documents and schemas', () => {
  it('every file parses, every document is a named object, and the kustomization lists exactly the other files', () => {
    assert.ok(kustomization, 'kustomization.yaml');
    assert.equal(kustomization.doc.apiVersion, 'kustomize.config.k8s.io/v1beta1');
    const known = new Set(['apiVersion', 'kind', 'resources', 'images', 'namespace', 'labels', 'commonAnnotations', 'patches', 'configMapGenerator', 'secretGenerator']);
    for (const k of Object.keys(kustomization.doc)) assert.ok(known.has(k), `kustomization.yaml: unexpected field ${k}`);
    const files = fs.readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== kustomization.file).sort();
    assert.deepEqual([...kustomization.doc.resources].sort(), files, 'kustomization resources = the other YAML files');

    const seen = new Set();
    for (const { where, doc } of objects) {
      assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, `${where}: apiVersion, kind, metadata.name`);
      const key = `${doc.kind}/${doc.metadata.name}`;
      assert.ok(!seen.has(key), `${where}: ${key} defined twice`);
      seen.add(key);
    }
    // The image override applies to the server's container.
    const names = (kustomization.doc.images ?? []).map((i) => i.name);
    assert.ok(names.includes(containerOf(frontmcp, 'frontmcp').image.split(':')[0]), `kustomization images ${JSON.stringify(names)} override the frontmcp container image`);
  });

  it('every document validates against the Kubernetes API schema (kubernetes-models)', async () => {
    const problems = [];
    for (const { where, doc } of objects) {
      let model;
      try {
        model = await import(`kubernetes-models/${doc.apiVersion}/${doc.kind}`);
      } catch (err) {
        problems.push(`${where}: no schema for ${doc.apiVersion} ${doc.kind} (${err.code ?? err.message})`);
        continue;
      }
      try {
        new model[doc.kind](doc).validate();
      } catch (err) {
        problems.push(`${where} (${doc.kind} ${doc.metadata?.name}): ${err.message}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('no document has a field the API does not know (TypeScript check against kubernetes-models types)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frontmcp-k8s-types-'));
    try {
      fs.symlinkSync(path.join(here, 'node_modules'), path.join(dir, 'node_modules'));
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
      const lines = [];
      const ranges = []; // [firstLine, lastLine, where]
      objects.forEach(({ where, doc }, i) => lines.push(`import type { I${doc.kind} as T${i} } from 'kubernetes-models/${doc.apiVersion}/${doc.kind}';`));
      objects.forEach(({ where, doc }, i) => {
        const body = `export const d${i}: T${i} = ${JSON.stringify(doc, null, 2)};`.split('\n');
        ranges.push([lines.length + 1, lines.length + body.length, where]);
        lines.push(...body);
      });
      fs.writeFileSync(path.join(dir, 'manifests.ts'), `${lines.join('\n')}\n`);
      const tsc = path.join(here, 'node_modules/typescript/bin/tsc');
      const r = await run(
        process.execPath,
        [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--pretty', 'false', 'manifests.ts'],
        { cwd: dir, timeoutMs: 60_000 },
      );
      const errors = (r.stdout + r.stderr)
        .split('\n')
        .filter((l) => /error TS\d+/.test(l))
        .map((l) => {
          const line = Number(/^manifests\.ts\((\d+),/.exec(l)?.[1]);
          const range = ranges.find(([a, b]) => line >= a && line <= b);
          return `${range?.[2] ?? 'imports'}: ${l.replace(/^manifests\.ts\(\d+,\d+\): /, '')}`;
        });
      assert.deepEqual(errors, [], `type errors (exit ${r.code})`);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/k8s: what the schemas cannot check', () => {
  it('Services, the PDB, the NetworkPolicy and the Ingress select the right pods and reach real ports', () => {
    for (const { where, doc } of deployments) {
      assert.ok(selects(doc.spec.selector, podLabels(doc)), `${where}: the Deployment's selector matches its own pods`);
    }
    for (const { where, doc } of objects.filter((d) => d.doc.kind === 'Service')) {
      const targets = deployments.filter((d) => selectsMap(doc.spec.selector, podLabels(d.doc)));
      assert.equal(targets.length, 1, `${where}: Service ${doc.metadata.name} selects the pods of exactly one Deployment (${targets.map((t) => t.where)})`);
      const container = containerOf(targets[0].doc);
      for (const p of doc.spec.ports) resolvePort(container, p.targetPort ?? p.port);
    }
    assert.ok(selectsMap(find('Service', 'frontmcp').spec.selector, podLabels(frontmcp)), 'Service frontmcp -> Deployment frontmcp');
    assert.ok(selectsMap(find('Service', 'frontmcp-redis').spec.selector, podLabels(redisDeployment)), 'Service frontmcp-redis -> the Redis');

    const pdb = find('PodDisruptionBudget', 'frontmcp');
    assert.ok(pdb, 'a PodDisruptionBudget for frontmcp');
    assert.ok(selects(pdb.spec.selector, podLabels(frontmcp)), 'the PDB selects the frontmcp pods');
    assert.ok(!selects(pdb.spec.selector, podLabels(redisDeployment)), 'and not the Redis');
    const replicas = frontmcp.spec.replicas;
    const allowed = pdb.spec.maxUnavailable ?? replicas - pdb.spec.minAvailable;
    assert.ok(allowed >= 1, `the PDB lets a drain proceed (${allowed} of ${replicas} may go)`);
    assert.ok(replicas - allowed >= 2, `the PDB keeps at least two nodes serving (${replicas - allowed})`);

    const np = find('NetworkPolicy', 'frontmcp-redis');
    assert.ok(selects(np.spec.podSelector, podLabels(redisDeployment)), 'the NetworkPolicy guards the Redis pods');
    const from = np.spec.ingress.flatMap((r) => r.from ?? []);
    assert.ok(from.some((f) => selects(f.podSelector, podLabels(frontmcp))), 'and admits the frontmcp pods');
    for (const p of np.spec.ingress.flatMap((r) => r.ports ?? [])) resolvePort(containerOf(redisDeployment), p.port);

    // FRONTMCP_REDIS_URL names the Redis Service and its port.
    const env = Object.fromEntries(containerOf(frontmcp, 'frontmcp').env.map((e) => [e.name, e]));
    const url = new URL(env.FRONTMCP_REDIS_URL.value);
    const redisSvc = find('Service', url.hostname);
    assert.ok(redisSvc, `FRONTMCP_REDIS_URL host ${url.hostname} is a Service here`);
    assert.ok(redisSvc.spec.ports.some((p) => p.port === Number(url.port || 6379)), `port ${url.port} is a port of Service ${url.hostname}`);

    // The Ingress sends traffic to a port the frontmcp Service has.
    const ing = objects.find((d) => d.doc.kind === 'Ingress').doc;
    for (const rule of ing.spec.rules) {
      for (const p of rule.http.paths) {
        const svc = find('Service', p.backend.service.name);
        assert.ok(svc, `Ingress backend ${p.backend.service.name} is a Service here`);
        const bp = p.backend.service.port;
        assert.ok(svc.spec.ports.some((sp) => (bp.name !== undefined ? sp.name === bp.name : sp.port === bp.number)), `Ingress backend port ${JSON.stringify(bp)}`);
      }
    }
  });

  it('the frontmcp Deployment: distributed mode, node id = pod name, probes on the server paths and port, flags the binary has', async () => {
    const c = containerOf(frontmcp, 'frontmcp');
    assert.equal(frontmcp.spec.replicas, 3);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
    assert.equal(env.FRONTMCP_DEPLOYMENT_MODE?.value, 'distributed');
    assert.ok(env.FRONTMCP_REDIS_URL?.value?.startsWith('redis://'), 'FRONTMCP_REDIS_URL');
    assert.equal(env.MACHINE_ID?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', 'MACHINE_ID from the pod name (downward API)');
    const relay = env.FRONTMCP_RELAY_SECRET?.valueFrom?.secretKeyRef;
    assert.ok(relay?.name && relay?.key, 'FRONTMCP_RELAY_SECRET from a Secret, never a literal in the manifest');
    assert.equal(env.FRONTMCP_RELAY_SECRET.value, undefined);
    const h = await serverHelp();
    for (const name of Object.keys(env)) assert.ok(new RegExp(`\\b${name}\\b`).test(h), `--help names the environment variable ${name}`);

    const args = argsOf(c);
    assert.equal(flagValue(args, '--host'), '0.0.0.0', 'listens on every interface of the pod');
    for (const flag of args.filter((a) => a.startsWith('--'))) assert.ok(hasFlag(h, flag.split('=')[0]), `${flag} is a flag of the server`);
    const listenPort = Number(flagValue(args, '--port') ?? (await serverDefault('--port')));
    assert.equal(resolvePort(c, 'http'), listenPort, 'the container port named http is the port the server listens on');
    assert.equal(listenPort, 3000);
    const paths = await probePaths(args);
    assert.deepEqual(paths, { healthz: '/healthz', readyz: '/readyz' }, 'the server default probe paths');
    assert.equal(c.readinessProbe?.httpGet?.path, paths.readyz, 'readiness probe on the readiness endpoint');
    assert.equal(c.livenessProbe?.httpGet?.path, paths.healthz, 'liveness probe on the liveness endpoint (not /readyz: a Redis outage must not restart pods)');
    assert.equal(resolvePort(c, c.readinessProbe.httpGet.port), listenPort, 'readiness probe port');
    assert.equal(resolvePort(c, c.livenessProbe.httpGet.port), listenPort, 'liveness probe port');
  });

  it('shutdown fits: terminationGracePeriodSeconds > preStop sleep + the server drain', async (t) => {
    const c = containerOf(frontmcp, 'frontmcp');
    const pre = preStopSeconds(c);
    const { drain, shutdownDelay } = await shutdownTimes(argsOf(c));
    const grace = frontmcp.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    t.diagnostic(`preStop ${pre} s + shutdown delay ${shutdownDelay / 1000} s + drain ${drain / 1000} s < grace ${grace} s`);
    assert.ok(pre + shutdownDelay / 1000 >= 2, `the preStop sleep (${pre} s) gives endpoint removal time to spread`);
    assert.ok(grace > pre + (shutdownDelay + drain) / 1000, `terminationGracePeriodSeconds ${grace} > preStop ${pre} s + shutdown delay ${shutdownDelay / 1000} s + drain ${drain / 1000} s`);
    const rollout = frontmcp.spec.strategy?.rollingUpdate ?? {};
    assert.equal(rollout.maxUnavailable, 0, 'rolling updates keep all nodes until a new one is ready');
  });

  it('locked down: non-root (the Dockerfile user), read-only root, no capabilities, resources set', () => {
    const dockerUser = /^USER\s+(\d+)/m.exec(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    for (const { where, doc } of deployments) {
      const pod = doc.spec.template.spec;
      assert.equal(pod.automountServiceAccountToken, false, `${where}: no service-account token`);
      for (const c of pod.containers) {
        const sc = { ...pod.securityContext, ...c.securityContext };
        assert.equal(sc.runAsNonRoot, true, `${where} ${c.name}: runAsNonRoot`);
        assert.ok(Number(sc.runAsUser) > 0, `${where} ${c.name}: runAsUser`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where} ${c.name}: readOnlyRootFilesystem`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where} ${c.name}: allowPrivilegeEscalation`);
        assert.ok(sc.capabilities?.drop?.includes('ALL'), `${where} ${c.name}: capabilities drop ALL`);
        assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory, `${where} ${c.name}: requests and a memory limit`);
      }
    }
    const sc = frontmcp.spec.template.spec.securityContext;
    assert.equal(String(sc.runAsUser), dockerUser, 'runAsUser = the Dockerfile USER');
  });

  it('the Ingress: cookie affinity with its own cookie, unbuffered long-lived streams, retries only on connection failure', async () => {
    const ing = objects.find((d) => d.doc.kind === 'Ingress').doc;
    assert.equal(ing.spec.ingressClassName, 'nginx');
    const a = ing.metadata.annotations ?? {};
    const get = (k) => a[`nginx.ingress.kubernetes.io/${k}`];
    assert.equal(get('affinity'), 'cookie');
    const name = get('session-cookie-name');
    assert.match(name ?? '', /^[A-Za-z0-9_-]+$/, 'session-cookie-name is a cookie name');
    assert.notEqual(name, AFFINITY_COOKIE, `the controller's cookie must not overwrite the server's ${AFFINITY_COOKIE}`);
    assert.equal(get('session-cookie-change-on-failure'), 'true', 're-pin when the pinned pod fails');
    assert.equal(get('session-cookie-path'), '/');
    assert.equal(Number(get('session-cookie-max-age')) * 1000, await serverDefault('--session-idle-ttl-ms'), 'cookie lifetime = the session idle lifetime');
    assert.equal(get('proxy-buffering'), 'off');
    assert.ok(Number(get('proxy-read-timeout')) >= 3600, 'read timeout of an hour for SSE');
    assert.ok(Number(get('proxy-send-timeout')) >= 3600, 'send timeout of an hour for SSE');
    const next = (get('proxy-next-upstream') ?? 'error timeout').split(/\s+/);
    assert.ok(!next.includes('non_idempotent') && !next.some((w) => /^http_/.test(w)), `retry only when no byte was sent: ${next}`);
    assert.notEqual(get('proxy-request-buffering'), 'off', 'request buffering on: the body can go to the next pod');
    const body = /^(\d+)([km]?)$/i.exec(get('proxy-body-size') ?? '');
    assert.ok(body, 'proxy-body-size');
    const bytes = Number(body[1]) * { '': 1, k: 1024, m: 1024 * 1024 }[body[2].toLowerCase()];
    assert.equal(bytes, await serverDefault('--max-body-bytes'), 'proxy-body-size = the server --max-body-bytes');
  });
});

describe('deploy/k8s: the real server started as the Deployment starts it', () => {
  let redis;
  let node;
  let stream;
  const podName = 'frontmcp-6d9c8b7f5d-x2k7q';
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    redis?.resume();
    stream?.close();
    if (node) await node.stop().catch(() => {});
    await redis?.close();
  });

  it('with its args and env (loopback, a private Redis) it answers the probes (unready, not dead, while Redis stalls), names itself by the pod, exits within the grace period', async (t) => {
    const c = containerOf(frontmcp, 'frontmcp');
    // The pod's command line, bound to loopback instead of 0.0.0.0 (the harness adds
    // --host 127.0.0.1 --port 0) and the downward API resolved.
    const args = [];
    const given = [...(c.args ?? [])];
    for (let i = 0; i < given.length; i++) {
      if (given[i] === '--host' || given[i] === '--port') i++;
      else args.push(given[i]);
    }
    const env = {};
    for (const e of c.env) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
      else if (e.valueFrom?.secretKeyRef) env[e.name] = 'k8s-e2e-relay-secret-0123456789abcdef'; // as if the Secret exists
      else env[e.name] = e.value;
    }
    env.FRONTMCP_REDIS_URL = redis.url; // the only substitution: the Service name -> the private Redis
    node = await startServer(args, { env: { ...env, HOSTNAME: 'not-the-node-id' } });

    const ready = await pollUntil(() => httpRequest(`${node.base}${c.readinessProbe.httpGet.path}`, { timeoutMs: 3_000 }), (r) => r.status === 200, 10_000, 'the readiness probe to pass');
    assert.equal(ready.headers['x-frontmcp-machine-id'], podName, 'distributed mode, node id = the pod name');
    const live = await httpRequest(`${node.base}${c.livenessProbe.httpGet.path}`, { timeoutMs: 3_000 });
    assert.equal(live.status, 200, `liveness ${c.livenessProbe.httpGet.path}: ${live.body}`);
    assert.ok(await redis.exists(`${DEFAULT_PREFIX}heartbeat:${podName}`), 'the node heartbeats in the Redis of FRONTMCP_REDIS_URL');

    // Redis stalls (the fault): the pod turns unready but stays alive (no restart loop).
    redis.pause();
    try {
      await pollUntil(() => httpRequest(`${node.base}${c.readinessProbe.httpGet.path}`, { timeoutMs: 3_000 }), (r) => r.status === 503, 8_000, 'the readiness probe to fail while Redis is stalled');
      const stillLive = await httpRequest(`${node.base}${c.livenessProbe.httpGet.path}`, { timeoutMs: 3_000 });
      assert.equal(stillLive.status, 200, 'the liveness probe passes while Redis is stalled');
    } finally {
      redis.resume();
    }
    await pollUntil(() => httpRequest(`${node.base}${c.readinessProbe.httpGet.path}`, { timeoutMs: 3_000 }), (r) => r.status === 200, 10_000, 'ready again once Redis is back');

    // The affinity cookie a client gets names the pod (what ingress-nginx.yaml's comment says).
    const init = await mcpPost(node.url, initializeRequest());
    assert.equal(affinityCookie([].concat(init.headers['set-cookie'] ?? []))?.value, podName, 'initialize sets __frontmcp_node=<pod name>');
    // A client with an open stream while the pod is terminated.
    const session = await initSession(node.url);
    stream = await openSse(node.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session.sessionId, 'MCP-Protocol-Version': session.protocolVersion } });
    assert.equal(stream.status, 200);
    const pre = preStopSeconds(c);
    const grace = frontmcp.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    const t0 = Date.now();
    node.proc.kill('SIGTERM');
    const exit = await withTimeout(node.exited, (grace - pre) * 1000, `the server to exit within terminationGracePeriodSeconds - preStop = ${grace - pre} s`);
    const exitMs = Date.now() - t0;
    t.diagnostic(`exit ${JSON.stringify(exit)} ${exitMs} ms after SIGTERM with an open stream; budget ${grace - pre} s`);
    assert.equal(exit.code, 0, node.stderr().slice(-3000));
    assert.ok(pre * 1000 + exitMs < grace * 1000, 'preStop + shutdown < terminationGracePeriodSeconds');
    assert.ok(node.stderr().includes(podName), 'it logged under the pod name');
    // It left the cluster on the way out: no heartbeat left to expire.
    assert.equal(await redis.exists(`${DEFAULT_PREFIX}heartbeat:${podName}`), false, 'heartbeat removed on exit');
  });
});
