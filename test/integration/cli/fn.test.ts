/**
 * `berth fn` against a real berthd with its gateway (as root): a function
 * from each template (sh, node, dockerfile) made with `new`, built with
 * berth's builder and deployed with `up --skip-push`, invoked with a body
 * that must come back, listed, described and removed (its replicas gone);
 * `login --show` prints ROOT/secrets; `login` stores faas-cli's config at
 * mode 0600 and a wrong password is refused; a bad stack file's error
 * names the file, the function, the field and the line, and deploys
 * nothing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, until, type CliOptions, type CliResult, type TestDaemon } from '../../helpers/daemon.ts';
import { gatewayClient, importNodeBase, type GatewayClient } from '../../helpers/faas.ts';
import { withRegistry } from '../../helpers/registry.ts';

let d: TestDaemon;
let gw: GatewayClient;
let env: NodeJS.ProcessEnv;

before(async () => {
  d = await startDaemon({ gateway: true, prepare: importNodeBase });
  gw = gatewayClient(d.gateway!, d.root);
  // The gateway from OPENFAAS_URL (the stack files keep faas-cli's default), credentials in a config of the test's own.
  env = { ...process.env, OPENFAAS_URL: d.gateway, OPENFAAS_CONFIG: join(d.scratch, 'openfaas') };
});

after(async () => {
  await d?.stop();
});

async function fn(args: readonly string[], o: CliOptions = {}): Promise<CliResult> {
  return d.berth(['fn', ...args], { env, cwd: d.scratch, timeoutMs: 120_000, ...o });
}

async function fnOk(args: readonly string[], o: CliOptions = {}): Promise<string> {
  const r = await fn(args, o);
  assert.equal(r.code, 0, `berth fn ${args.join(' ')}: ${show(r)}`);
  return r.stdout;
}

interface Ctr {
  Id: string;
  Labels: Record<string, string>;
}

async function replicasOf(name: string): Promise<Ctr[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${name}`] });
  return (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as Ctr[];
}

/** new → up --skip-push → invoke (the body back) → list → describe → remove. */
async function roundTrip(name: string, lang: string, body: string): Promise<void> {
  await fnOk(['new', name, '--lang', lang, '--quiet']);
  const stack = readFileSync(join(d.scratch, `${name}.yml`), 'utf8');
  assert.match(stack, new RegExp(`^  ${name}:\\n    lang: ${lang}\\n    handler: ./${name}\\n    image: ${name}:latest$`, 'm'), stack);
  const up = await fnOk(['up', '--skip-push', '-f', `${name}.yml`]);
  assert.match(up, new RegExp(`Deployed\\. 202 Accepted\\.\\nURL: ${d.gateway}/function/${name}`), up);

  // The gateway holds the first request until a replica is ready.
  assert.equal(await fnOk(['invoke', name], { input: body }), body);
  const withQuery = await fnOk(['invoke', name, '--query', 'a=b', '--header', 'X-Test=1', '--content-type', 'text/plain'], { input: 'second' });
  assert.equal(withQuery, 'second');

  const list = await fnOk(['list']);
  assert.match(list, /^Function\s+\tInvocations\s+\tReplicas/, list);
  assert.match(list, new RegExp(`^${name}\\s+\\t2\\s+\\t1`, 'm'), list);
  const verbose = await fnOk(['list', '-v']);
  assert.match(verbose, new RegExp(`^${name}\\s+\\t${name}:latest\\s+\\t`, 'm'), verbose);
  const json = JSON.parse(await fnOk(['list', '--json'])) as { name: string; image: string; replicas: number }[];
  assert.deepEqual(json.map((f) => [f.name, f.image, f.replicas]), [[name, `${name}:latest`, 1]]);
  assert.equal(await fnOk(['list', '--format', '{{.Name}} {{.Image}}']), `${name} ${name}:latest\n`);

  const described = await fnOk(['describe', name]);
  assert.match(described, new RegExp(`^Name:\\s+${name}$`, 'm'), described);
  assert.match(described, /^Status:\s+Ready$/m, described);
  assert.match(described, new RegExp(`^Image:\\s+${name}:latest$`, 'm'), described);
  assert.match(described, new RegExp(`^URL:\\s+${d.gateway}/function/${name}$`, 'm'), described);
  assert.equal((await replicasOf(name)).length, 1);

  const removed = await fnOk(['remove', name]);
  assert.equal(removed, `Deleting: ${name}.\nRemoving old function.\n`);
  assert.deepEqual(await gw.get('/system/functions'), []);
  await until(`the replicas of ${name} to be gone`, async () => ((await replicasOf(name)).length === 0 ? true : undefined), 30_000);
  const again = await fn(['remove', name]);
  assert.equal(again.code, 1, show(again));
  assert.match(again.stderr, new RegExp(`function "${name}"`), again.stderr);
}

test('a sh function: new, up --skip-push, invoke, list, describe, remove', async () => {
  await roundTrip('echo-sh', 'sh', 'hello from stdin\n');
});

test('a node function on node-base: the handler gets the body and returns it', async () => {
  await roundTrip('echo-node', 'node', '{"not":"parsed: text/plain"}');
});

test('a dockerfile function: any image serving :8080 (busybox httpd with a CGI)', async () => {
  await roundTrip('echo-docker', 'dockerfile', 'from a CGI');
});

test('login --show prints the credentials of ROOT/secrets; login checks a password and stores it at 0600', async () => {
  const user = readFileSync(join(d.root, 'secrets', 'basic-auth-user'), 'utf8').trim();
  const password = readFileSync(join(d.root, 'secrets', 'basic-auth-password'), 'utf8').trim();
  assert.equal(await fnOk(['login', '--show']), `username: ${user}\npassword: ${password}\n`);

  const wrong = await fn(['login', '--username', user, '--password-stdin'], { input: 'not-the-password\n' });
  assert.notEqual(wrong.code, 0, show(wrong));
  assert.match(wrong.stderr, /username or password is incorrect/);
  const config = join(d.scratch, 'openfaas', 'config.yml');
  assert.throws(() => statSync(config), /ENOENT/, 'nothing stored for a wrong password');

  assert.match(await fnOk(['login', '--username', user, '--password-stdin'], { input: `${password}\n` }), new RegExp(`credentials saved for ${user} ${d.gateway}`));
  assert.equal(statSync(config).mode & 0o777, 0o600);
  const text = readFileSync(config, 'utf8');
  assert.ok(text.includes(`gateway: ${d.gateway}`), text);
  assert.ok(text.includes(`token: ${Buffer.from(`${user}:${password}`).toString('base64')}`), text);

  // With the stored credentials and no way to the root's files, /system/* still answers: they are the ones used.
  const other = await d.berth(['--root', join(d.scratch, 'elsewhere'), 'fn', 'list', '--json'], { env, cwd: d.scratch });
  assert.equal(other.code, 0, show(other));
});

test('a bad stack file is refused naming the file, the function, the field and the line; nothing is deployed', async () => {
  const dir = join(d.scratch, 'bad');
  mkdirSync(dir, { recursive: true });
  const cases: [string, RegExp][] = [
    ['version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  fine:\n    image: x:1\n  broken:\n    lang: sh\n    imgae: y:1\n', /bad\.yml: line 9: functions\.broken\.imgae: unknown field/],
    ['version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  nolimit:\n    image: x:1\n    limits:\n      memroy: 1Mi\n', /line 8: functions\.nolimit\.limits\.memroy: unknown field/],
    ['version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  noimage:\n    lang: sh\n', /line 5: functions\.noimage\.image: an image is required/],
    ['version: 2.0\nprovider:\n  name: openfaas\n', /line 1: version: \[1\.0\] are the only valid versions/],
    ['version: 1.0\nprovider:\n  name: faas\n', /line 3: provider\.name: \['openfaas'\] is the only valid "provider\.name", but you gave: faas/],
    ['version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  ro:\n    image: x:1\n    readonly_root_filesystem: maybe\n', /line 7: functions\.ro\.readonly_root_filesystem: "maybe" is not true or false/],
    ['version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  envf:\n    image: x:1\n    environment_file:\n      - missing.yml\n', /line 8: functions\.envf\.environment_file\.0: .*missing\.yml: cannot be read \(ENOENT\)/],
    ['version: 1.0\nprovider: [\n', /bad\.yml: line \d+: not valid YAML/],
  ];
  for (const [text, want] of cases) {
    writeFileSync(join(dir, 'bad.yml'), text);
    const r = await fn(['deploy', '-f', 'bad/bad.yml']);
    assert.equal(r.code, 2, `${text}\n${show(r)}`);
    assert.match(r.stderr, want, text);
  }
  assert.deepEqual(await gw.get('/system/functions'), []);
});

test('deploy from a stack file: environment_file relative to it, ${VAR} substituted, command-line labels over the file\'s', async () => {
  const dir = join(d.scratch, 'envs');
  mkdirSync(join(dir, 'conf'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'env.yml'), 'environment:\n  FROM_FILE: file\n  BOTH: file-wins\n');
  writeFileSync(
    join(dir, 'stack.yml'),
    'version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  envfn:\n    image: ${IMG:-busybox}:latest\n    fprocess: env\n    environment:\n      BOTH: inline\n      ONLY: ${ONLY_VALUE}\n    environment_file:\n      - conf/env.yml\n    labels:\n      team: a\n',
  );
  await fnOk(['deploy', '-f', 'envs/stack.yml', '--label', 'team=b', '--env', 'CLI=1'], { env: { ...env, ONLY_VALUE: 'subst' } });
  const s = (await gw.get('/system/function/envfn')) as { image: string; envVars: Record<string, string>; labels: Record<string, string>; envProcess: string };
  assert.equal(s.image, 'busybox:latest');
  assert.equal(s.envProcess, 'env');
  assert.deepEqual(s.envVars, { BOTH: 'file-wins', ONLY: 'subst', FROM_FILE: 'file', CLI: '1' });
  assert.equal(s.labels['team'], 'b');
  const out = await fnOk(['invoke', 'envfn'], { input: '' });
  assert.match(out, /^FROM_FILE=file$/m, out);
  assert.match(out, /^ONLY=subst$/m, out);
  // A second deploy updates in place (PUT), as faas-cli's --update does.
  const again = await fnOk(['deploy', '-f', 'envs/stack.yml'], { env: { ...env, ONLY_VALUE: 'two' } });
  assert.match(again, /Deployed\. 200 OK\./, again);
  assert.equal(((await gw.get('/system/function/envfn')) as { envVars: Record<string, string> }).envVars['ONLY'], 'two');
  await fnOk(['remove', '-f', 'envs/stack.yml']);
  assert.deepEqual(await gw.get('/system/functions'), []);
});

test('push: the built image to its registry (a loopback one here), then up deploys it by that name', async (t) => {
  const reg = await withRegistry(t);
  await fnOk(['new', 'pushed', '--lang', 'sh', '--prefix', reg.host, '--quiet']);
  const up = await fnOk(['up', '-f', 'pushed.yml']);
  assert.match(up, new RegExp(`Pushing: pushed \\[${reg.host.replace(/\./g, '\\.')}/pushed:latest\\]\\.`), up);
  const r = await fetch(`http://${reg.host}/v2/pushed/manifests/latest`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
  assert.equal(r.status, 200, await r.text());
  assert.equal(await fnOk(['invoke', 'pushed'], { input: 'pushed and deployed' }), 'pushed and deployed');
  await fnOk(['remove', '-f', 'pushed.yml']);
});
