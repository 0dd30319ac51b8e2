/**
 * faas-cli's stack file as berth reads it: the fields, `${VAR}`
 * substitution, environment_file relative to the file (files win over
 * inline), --filter/--regex, and refusals that name the file, the field
 * and the line; the FunctionDeployment body a stack function becomes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deploymentBody } from '../../../src/faas/stack/deployment.ts';
import { substituteEnvironment } from '../../../src/faas/stack/envsubst.ts';
import { parseStack, readStack } from '../../../src/faas/stack/parse.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-stack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = 'version: 1.0\nprovider:\n  name: openfaas\n  gateway: http://127.0.0.1:8080\n';

test('envsubst: $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default} (unset), $$', () => {
  const env = { SET: 'v', EMPTY: '' };
  const cases: [string, string][] = [
    ['${SET}/x', 'v/x'],
    ['$SET/x', 'v/x'],
    ['${UNSET}|', '|'],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:-d}', 'v'],
    ['${UNSET:=d}', 'd'],
    ['cost $$5 and $ alone', 'cost $5 and $ alone'],
  ];
  for (const [text, want] of cases) assert.equal(substituteEnvironment(text, env, 'f.yml'), want, text);
  assert.throws(() => substituteEnvironment('a: 1\nb: ${X/y/z}\n', env, 'f.yml'), /f\.yml: line 2: "\$\{X\/y\/z\}" is not a substitution/);
  assert.throws(() => substituteEnvironment('a: ${X', env, 'f.yml'), /f\.yml: line 1: "\$\{" without a closing "\}"/);
});

test('every field of a function, scalars read as strings as faas-cli\'s Go structs take them', () => {
  const s = parseStack(
    `${HEAD}functions:\n  fn1:\n    lang: Dockerfile\n    handler: ./fn1\n    image: \${PREFIX:-me}/fn1:latest\n    fprocess: cat\n    environment:\n      max_inflight: 5\n      debug: true\n    secrets:\n      - s1\n    labels:\n      com.openfaas.scale.zero: true\n    annotations:\n      topic: t\n    limits:\n      memory: 40Mi\n      cpu: 100m\n    requests:\n      memory: 20Mi\n    readonly_root_filesystem: true\n    skip_build: true\n    build_args:\n      A: b\n    namespace: openfaas-fn\n    constraints:\n      - node.platform.os == linux\nconfiguration:\n  templates:\n    - name: mine\n      source: ./tpl\n`,
    join(dir, 'stack.yml'),
    { env: {} },
  );
  assert.equal(s.version, '1.0');
  assert.deepEqual(s.provider, { name: 'openfaas', gateway: 'http://127.0.0.1:8080' });
  assert.deepEqual(s.templates, [{ name: 'mine', source: './tpl' }]);
  const [f] = s.functions;
  assert.deepEqual(f, {
    name: 'fn1',
    lang: 'dockerfile',
    handler: './fn1',
    handlerPath: join(dir, 'fn1'),
    image: 'me/fn1:latest',
    fprocess: 'cat',
    environment: { max_inflight: '5', debug: 'true' },
    secrets: ['s1'],
    labels: { 'com.openfaas.scale.zero': 'true' },
    annotations: { topic: 't' },
    limits: { memory: '40Mi', cpu: '100m' },
    requests: { memory: '20Mi' },
    readOnlyRootFilesystem: true,
    skipBuild: true,
    buildArgs: { A: 'b' },
    namespace: 'openfaas-fn',
    constraints: ['node.platform.os == linux'],
  });
  assert.deepEqual(deploymentBody(f, { labels: { team: 'x' }, env: { debug: 'false' }, secrets: ['s2'] }), {
    service: 'fn1',
    image: 'me/fn1:latest',
    namespace: 'openfaas-fn',
    envProcess: 'cat',
    envVars: { max_inflight: '5', debug: 'false' },
    constraints: ['node.platform.os == linux'],
    secrets: ['s2', 's1'],
    labels: { 'com.openfaas.scale.zero': 'true', team: 'x' },
    annotations: { topic: 't' },
    limits: { memory: '40Mi', cpu: '100m' },
    requests: { memory: '20Mi' },
    readOnlyRootFilesystem: true,
  });
  // --envsubst=false leaves the text alone.
  const raw = parseStack(`${HEAD}functions:\n  a:\n    image: \${X:-y}\n`, 'raw.yml', { envsubst: false, env: {} });
  assert.equal(raw.functions[0]?.image, '${X:-y}');
});

test('environment_file: relative to the stack file, in order, over the inline environment', () => {
  mkdirSync(join(dir, 'sub', 'env'), { recursive: true });
  writeFileSync(join(dir, 'sub', 'env', 'a.yml'), 'environment:\n  A: from-a\n  B: from-a\n');
  writeFileSync(join(dir, 'sub', 'env', 'b.yml'), 'environment:\n  B: from-b\n');
  writeFileSync(join(dir, 'sub', 'stack.yml'), `${HEAD}functions:\n  f:\n    image: i\n    environment:\n      A: inline\n      C: inline\n    environment_file:\n      - env/a.yml\n      - env/b.yml\n`);
  const s = readStack(join(dir, 'sub', 'stack.yml'), { env: {} });
  assert.deepEqual(s.functions[0]?.environment, { A: 'from-a', B: 'from-b', C: 'inline' });
  writeFileSync(join(dir, 'sub', 'env', 'bad.yml'), 'environment:\n  A: [1]\n');
  writeFileSync(join(dir, 'sub', 'stack2.yml'), `${HEAD}functions:\n  f:\n    image: i\n    environment_file:\n      - env/bad.yml\n`);
  assert.throws(() => readStack(join(dir, 'sub', 'stack2.yml'), { env: {} }), /env\/bad\.yml: line 2: environment\.A: not a string/);
});

test('--filter (a wildcard) and --regex pick functions; not both; no match is an error', () => {
  const text = `${HEAD}functions:\n  url-ping:\n    image: a\n  nodejs-echo:\n    image: b\n  ruby-echo:\n    image: c\n  imagemagick:\n    image: d\n`;
  const names = (o: { regex?: string; filter?: string }): string[] => parseStack(text, 's.yml', { env: {}, ...o }).functions.map((f) => f.name).sort();
  assert.deepEqual(names({ filter: '*echo' }), ['nodejs-echo', 'ruby-echo']);
  assert.deepEqual(names({ filter: '*-*' }), ['nodejs-echo', 'ruby-echo', 'url-ping']);
  assert.deepEqual(names({ regex: '^[^-]+$' }), ['imagemagick']);
  assert.deepEqual(names({ regex: '' }), ['imagemagick', 'nodejs-echo', 'ruby-echo', 'url-ping']);
  assert.throws(() => names({ regex: 'RANDOM' }), /no functions matching --filter\/--regex were found in the YAML file/);
  assert.throws(() => names({ regex: '.*', filter: '*' }), /a --regex or a --filter, not both/);
  assert.throws(() => names({ regex: '[' }), /--regex "\[": error parsing regexp/);
});

test('refusals name the file, the field and the line', () => {
  const cases: [string, RegExp][] = [
    [`${HEAD}functions:\n  Bad_Name:\n    image: x\n`, /s\.yml: line 6: functions\.Bad_Name: not a function name/],
    [`${HEAD}functions:\n  f:\n    image: x\n    secrets: s1\n`, /s\.yml: line 8: functions\.f\.secrets: not a list of strings/],
    [`${HEAD}functions:\n  f:\n    image: x\n    labels:\n      - a\n`, /line 8: functions\.f\.labels: not a map of strings/],
    [`${HEAD}functions:\n  f:\n    image: x\n    environment:\n      A:\n        nested: 1\n`, /line 9: functions\.f\.environment\.A: not a string/],
    [`${HEAD}functions:\n  f:\n    image: x\nconfiguration:\n  templates:\n    - source: ./t\n`, /line 10: configuration\.templates\.0\.name: a template name is required/],
    [`${HEAD}extra: 1\n`, /line 5: extra: unknown field/],
    [`version: 1.0\nfunctions: {}\n`, /s\.yml: line 1: provider: a provider is required/],
    [`${HEAD}functions:\n  f:\n    image: x\n  f:\n    image: y\n`, /s\.yml: line 8: not valid YAML: Map keys must be unique/],
  ];
  for (const [text, want] of cases) assert.throws(() => parseStack(text, 's.yml', { env: {} }), want, text);
  assert.throws(() => readStack(join(dir, 'nothing.yml')), /stack file .*nothing\.yml: not found/);
});
