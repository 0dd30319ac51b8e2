import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { cpus, memoryBytes, parseDeployment, scalingOf } from '../../../src/faas/deployment.ts';
import { replicaOptions, runsWatchdog } from '../../../src/faas/replica-options.ts';

const refused = (body: unknown, field: string): void => {
  assert.throws(
    () => parseDeployment(body),
    (err: unknown) => isBerthError(err, 'faas_deployment_invalid') && err.message.includes(`${field}:`),
    `${JSON.stringify(body)} should be refused naming ${field}`,
  );
};

test('a FunctionDeployment with every field becomes a spec; ignored fields are dropped', () => {
  const s = parseDeployment({
    service: 'nodeinfo',
    image: 'functions/nodeinfo:latest',
    namespace: 'openfaas-fn',
    envProcess: 'node main.js',
    envVars: { A: '1' },
    labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '1m30s', 'com.openfaas.scale.min': '2' },
    annotations: { topic: 'x' },
    secrets: ['aws-key'],
    limits: { memory: '128Mi', cpu: '500m' },
    requests: { memory: '64M' },
    readOnlyRootFilesystem: true,
    network: 'func_functions',
    registryAuth: 'dXNlcjpwYXNz',
    constraints: ['node.platform.os == linux'],
  });
  assert.equal(s.name, 'nodeinfo');
  assert.equal(s.envProcess, 'node main.js');
  assert.deepEqual(s.secrets, ['aws-key']);
  assert.deepEqual(s.limits, { memory: '128Mi', cpu: '500m' });
  assert.deepEqual(s.scaling, { zero: true, zeroDurationMs: 90_000, min: 2, max: 20 });
  assert.equal(s.readOnlyRootFilesystem, true);
  assert.equal('network' in s, false);
});

test('the namespace defaults to openfaas-fn; another is a DNS label, else refused naming it', () => {
  assert.equal(parseDeployment({ service: 'a1', image: 'x' }).namespace, 'openfaas-fn');
  assert.equal(parseDeployment({ service: 'a1', image: 'x', namespace: 'prod' }).namespace, 'prod');
  for (const ns of ['Prod', 'a.b', '../x', '-x', 'x'.repeat(64), 7]) refused({ service: 'a1', image: 'x', namespace: ns }, 'namespace');
});

test('each bad field is refused by name', () => {
  refused('nope', 'body');
  refused({ image: 'x' }, 'service');
  refused({ service: 'UPPER', image: 'x' }, 'service');
  refused({ service: '-dash', image: 'x' }, 'service');
  refused({ service: 'a'.repeat(64), image: 'x' }, 'service');
  refused({ service: 'ok' }, 'image');
  refused({ service: 'ok', image: 'has space' }, 'image');
  refused({ service: 'ok', image: 'x', envProcess: 3 }, 'envProcess');
  refused({ service: 'ok', image: 'x', envVars: { 'BAD-KEY': 'v' } }, 'envVars');
  refused({ service: 'ok', image: 'x', envVars: { K: 1 } }, 'envVars.K');
  refused({ service: 'ok', image: 'x', labels: [] }, 'labels');
  refused({ service: 'ok', image: 'x', secrets: 'one' }, 'secrets');
  refused({ service: 'ok', image: 'x', secrets: ['../etc'] }, 'secrets[0]');
  refused({ service: 'ok', image: 'x', limits: { memory: '1Mi' } }, 'limits.memory');
  refused({ service: 'ok', image: 'x', limits: { cpu: 'fast' } }, 'limits.cpu');
  refused({ service: 'ok', image: 'x', limits: { gpu: '1' } }, 'limits.gpu');
  refused({ service: 'ok', image: 'x', readOnlyRootFilesystem: 'yes' }, 'readOnlyRootFilesystem');
  refused({ service: 'ok', image: 'x', replicas: 3 }, 'replicas');
});

test('scaling labels: defaults, durations in Go syntax, bounds checked', () => {
  assert.deepEqual(scalingOf({}), { zero: false, zeroDurationMs: 15 * 60_000, min: 1, max: 20 });
  assert.equal(scalingOf({ 'com.openfaas.scale.zero-duration': '2s' }).zeroDurationMs, 2000);
  assert.equal(scalingOf({ 'com.openfaas.scale.zero-duration': '500ms' }).zeroDurationMs, 500);
  const bad = (labels: Record<string, string>, label: string): void =>
    assert.throws(() => scalingOf(labels), (err: unknown) => isBerthError(err, 'faas_deployment_invalid') && err.message.includes(`labels.${label}:`));
  bad({ 'com.openfaas.scale.zero': 'yes' }, 'com.openfaas.scale.zero');
  bad({ 'com.openfaas.scale.zero-duration': '2' }, 'com.openfaas.scale.zero-duration');
  bad({ 'com.openfaas.scale.zero-duration': '1ms' }, 'com.openfaas.scale.zero-duration');
  bad({ 'com.openfaas.scale.min': 'two' }, 'com.openfaas.scale.min');
  bad({ 'com.openfaas.scale.min': '5', 'com.openfaas.scale.max': '2' }, 'com.openfaas.scale.max');
});

test('quantities: memory in Kubernetes and docker units, CPUs whole or in millicores', () => {
  assert.equal(memoryBytes('m', '128Mi'), 128 * 2 ** 20);
  assert.equal(memoryBytes('m', '128M'), 128e6);
  assert.equal(memoryBytes('m', '64m'), 64 * 2 ** 20);
  assert.equal(memoryBytes('m', '1Gi'), 2 ** 30);
  assert.equal(cpus('c', '500m'), 0.5);
  assert.equal(cpus('c', '1.5'), 1.5);
  assert.throws(() => cpus('c', '5m'), /below the minimum/);
});

test("a replica's run options: OpenFaaS's labels, env and fprocess, the default network, no port, limits, the watchdog mounted read-only as its process", () => {
  const spec = parseDeployment({ service: 'fn1', image: 'img', envProcess: 'httpd -f -p 8080', envVars: { A: 'b' }, labels: { x: 'y' }, limits: { memory: '64Mi', cpu: '0.5' }, readOnlyRootFilesystem: true });
  const o = replicaOptions(spec, 3);
  assert.match(o.name ?? '', /^fn1-[0-9a-f]{6}$/);
  assert.equal(o.network, 'bridge');
  assert.deepEqual(o.ports, []);
  assert.deepEqual(o.labels, { x: 'y', 'com.openfaas.function': 'fn1', 'com.openfaas.namespace': 'openfaas-fn', 'com.berth.faas.revision': '3', 'com.berth.faas.watchdog': 'true' });
  assert.deepEqual(o.env, ['A=b', 'fprocess=httpd -f -p 8080', 'port=8080']);
  assert.deepEqual(o.entrypoint, ['/.berth/watchdog']);
  assert.deepEqual(o.mounts.map((m) => [m.type, m.target, m.type === 'bind' && m.readonly]), [['bind', '/.berth/watchdog', true], ['tmpfs', '/tmp', false]], 'the watchdog read-only, /tmp writable on the read-only root');
  assert.equal(o.readOnly, true);
  assert.equal(o.restart.name, 'no');
  assert.equal(o.resources.memory?.limit, 64 * 2 ** 20);
  assert.equal(o.resources.cpu?.quota, 50_000);
  const own = replicaOptions(parseDeployment({ service: 'fn2', image: 'img' }), 1);
  assert.equal(own.entrypoint, undefined, "without envProcess the image's own command runs");
  assert.deepEqual(own.mounts, []);
  assert.equal(own.labels['com.berth.faas.watchdog'], undefined);
  const fromImage = replicaOptions(parseDeployment({ service: 'fn3', image: 'img' }), 1, runsWatchdog(parseDeployment({ service: 'fn3', image: 'img' }), ['fprocess=cat']));
  assert.deepEqual(fromImage.entrypoint, ['/.berth/watchdog'], "an image's own fprocess runs under the watchdog");
  assert.deepEqual(fromImage.env, ['port=8080']);
});

test("berthd's --gateway: ADDR:PORT or off; the default is 127.0.0.1:8080 and may be busy without stopping berthd", async () => {
  const { parseGatewayAddress } = await import('../../../src/faas/gateway.ts');
  const { gatewayOption } = await import('../../../src/cli/berthd/gateway.ts');
  assert.deepEqual(parseGatewayAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseGatewayAddress('[::1]:8080'), { host: '::1', port: 8080 });
  for (const bad of ['8080', 'localhost', '1.2.3.4:99999', 'host name:80']) {
    assert.throws(() => parseGatewayAddress(bad), (err: unknown) => isBerthError(err, 'daemon_flag_invalid') && err.message.includes('--gateway'), bad);
  }
  assert.equal(gatewayOption('off'), undefined);
  assert.deepEqual(gatewayOption(undefined), { host: '127.0.0.1', port: 8080, required: false });
  assert.deepEqual(gatewayOption('0.0.0.0:9000'), { host: '0.0.0.0', port: 9000, required: true });
});

test("berthd's --faas-primed-max: a number of functions, 0 to 100000, given to the gateway", async () => {
  const { gatewayOption, primedMaxOption } = await import('../../../src/cli/berthd/gateway.ts');
  assert.equal(primedMaxOption(undefined), undefined);
  assert.equal(primedMaxOption('0'), 0);
  assert.equal(primedMaxOption('250'), 250);
  for (const bad of ['-1', 'many', '1.5', '100001', '']) {
    assert.throws(() => primedMaxOption(bad), (err: unknown) => isBerthError(err, 'faas_primed_flag_invalid') && err.message.includes('--faas-primed-max'), bad);
  }
  assert.deepEqual(gatewayOption(undefined, {}, 3), { host: '127.0.0.1', port: 8080, required: false, primedMax: 3 });
  assert.equal(gatewayOption('off', {}, 3), undefined);
});
