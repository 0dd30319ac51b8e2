/**
 * `berth fn` against a fake gateway on loopback (port 0) that records what
 * it is sent: the requests of the verbs whose routes other parts of berth
 * serve (secrets, logs, async invocations), each as faas-cli makes it
 * (method, path, query, JSON body, basic auth on /system/* only), and how
 * the answers are printed; credentials from faas-cli's config first, else
 * from berth's root; the gateway from --gateway, the stack file,
 * OPENFAAS_URL, in faas-cli's order.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveGateway } from '../../../src/cli/berth/commands/fn/gateway.ts';
import { saveAuth } from '../../../src/cli/berth/commands/fn/config.ts';
import { formatLogEntry } from '../../../src/cli/berth/commands/fn/logs.ts';
import { renderDescription } from '../../../src/cli/berth/commands/fn/query.ts';
import { BERTH, runCommand, show, type CliResult } from '../../helpers/daemon.ts';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  type: string | undefined;
  body: string;
}

const seen: Seen[] = [];
let server: Server;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'berth-fn-'));
const root = join(dir, 'root');
const ROOT_AUTH = `Basic ${Buffer.from('admin:root-pass').toString('base64')}`;

const LOGS = [
  { name: 'fn1', namespace: 'openfaas-fn', instance: 'fn1-abc', timestamp: '2026-01-02T03:04:05.123456789Z', text: 'first line\n' },
  { name: 'fn1', namespace: 'openfaas-fn', instance: 'fn1-abc', timestamp: '2026-01-02T03:04:06Z', text: 'second' },
];

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const path = (req.url ?? '').split('?')[0];
  const json = (status: number, v: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(v));
  };
  if (path?.startsWith('/system/') && req.headers.authorization === undefined) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="OpenFaaS"' });
    res.end('Unauthorized\n');
    return;
  }
  if (req.method === 'GET' && path === '/system/secrets') return json(200, [{ name: 's1', namespace: 'openfaas-fn' }, { name: 's2' }]);
  if (path === '/system/secrets' && req.method === 'POST') return void res.writeHead(201).end();
  if (path === '/system/secrets' && req.method === 'PUT') return void res.writeHead(200).end();
  if (path === '/system/secrets' && req.method === 'DELETE') return void ((JSON.parse(body) as { name?: string }).name === 'gone' ? res.writeHead(404).end('secret not found: gone\n') : res.writeHead(204).end());
  if (path === '/system/logs') {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    // Split inside a line: the client must join chunks before parsing.
    const text = LOGS.map((l) => `${JSON.stringify(l)}\n`).join('');
    res.write(text.slice(0, 30));
    res.end(text.slice(30));
    return;
  }
  if (path === '/async-function/fn1') {
    res.writeHead(202, { 'X-Call-Id': 'call-1' });
    res.end();
    return;
  }
  if (path === '/function/fn1') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.end(Buffer.from([0, 1, 2, 255]));
    return;
  }
  if (path === '/function/broken') {
    res.writeHead(500);
    res.end('exit status 1\n');
    return;
  }
  res.writeHead(404);
  res.end('page not found\n');
}

before(async () => {
  mkdirSync(join(root, 'secrets'), { recursive: true });
  writeFileSync(join(root, 'secrets', 'basic-auth-user'), 'admin\n');
  writeFileSync(join(root, 'secrets', 'basic-auth-password'), 'root-pass\n');
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, type: req.headers['content-type'], body });
      answer(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({ ...process.env, OPENFAAS_URL: url, OPENFAAS_CONFIG: join(dir, 'config') });

async function fn(args: readonly string[], input = ''): Promise<CliResult> {
  seen.length = 0;
  return runCommand(BERTH, ['--root', root, 'fn', ...args], { env: env(), input, cwd: dir });
}

async function ok(args: readonly string[], input = ''): Promise<string> {
  const r = await fn(args, input);
  assert.equal(r.code, 0, show(r));
  return r.stdout;
}

test('the gateway: --gateway, else the stack file\'s (unless the default), else OPENFAAS_URL, else the default', () => {
  const e = { OPENFAAS_URL: 'http://env:1' };
  assert.equal(resolveGateway('http://flag:1/', 'http://yaml:1', e), 'http://flag:1');
  assert.equal(resolveGateway(undefined, 'http://YAML:1', e), 'http://yaml:1');
  assert.equal(resolveGateway(undefined, 'http://127.0.0.1:8080', e), 'http://env:1');
  assert.equal(resolveGateway('http://127.0.0.1:8080', undefined, e), 'http://env:1');
  assert.equal(resolveGateway(undefined, undefined, {}), 'http://127.0.0.1:8080');
  assert.equal(resolveGateway('gw.local:31112', undefined, {}), 'http://gw.local:31112');
});

test('secret create sends {name, value} (trimmed) or {name, rawValue} (a file\'s bytes, base64), under basic auth from berth\'s root', async () => {
  assert.equal(await ok(['secret', 'create', 's1', '--from-literal', ' v1 ']), 'Creating secret: s1\nCreated: 201\n');
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.auth, s.type, JSON.parse(s.body) as unknown]), [['POST', '/system/secrets', ROOT_AUTH, 'application/json', { name: 's1', value: 'v1' }]]);
  writeFileSync(join(dir, 'bin.key'), Buffer.from([0, 255, 10]));
  await ok(['secret', 'create', 's2', '--from-file', 'bin.key']);
  assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { name: 's2', rawValue: 'AP8K' });
  await ok(['secret', 'create', 's3'], 'from stdin\n');
  assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { name: 's3', value: 'from stdin' });
  await ok(['secret', 'update', 's3', '--from-literal', 'new', '-n', 'openfaas-fn']);
  assert.deepEqual(seen.map((s) => [s.method, s.url, JSON.parse(s.body) as unknown]), [['PUT', '/system/secrets', { name: 's3', namespace: 'openfaas-fn', value: 'new' }]]);

  for (const [args, want] of [
    [['secret', 'create', 'Bad_Name', '--from-literal', 'x'], /secret name "Bad_Name": must start and end/],
    [['secret', 'create', 's4', '--from-literal', 'x', '--from-file', 'bin.key'], /only one option from --from-literal, --from-file and STDIN/],
    [['secret', 'create', 's4', '--from-literal', '  '], /must provide a non empty secret/],
  ] as const) {
    const r = await fn(args);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, want);
    assert.equal(seen.length, 0, 'nothing sent');
  }
});

test('secret list and remove: GET and DELETE /system/secrets; a secret that is not there is an error naming it', async () => {
  assert.equal(await ok(['secret', 'list']), '\nNAME\ns1\ns2\n\n');
  assert.deepEqual(seen.map((s) => [s.method, s.url]), [['GET', '/system/secrets']]);
  assert.deepEqual(JSON.parse(await ok(['secret', 'ls', '--json'])), [{ name: 's1', namespace: 'openfaas-fn' }, { name: 's2' }]);
  assert.equal(await ok(['secret', 'remove', 's1']), 'Removed.. OK.\n');
  assert.deepEqual(seen.map((s) => [s.method, s.url, JSON.parse(s.body) as unknown]), [['DELETE', '/system/secrets', { name: 's1' }]]);
  const r = await fn(['secret', 'rm', 'gone']);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /secret "gone": remove: secret not found: gone/);
});

test('logs: GET /system/logs with name, follow, since (RFC 3339) and tail; each entry printed as faas-cli prints it', async () => {
  const out = await ok(['logs', 'fn1', '--follow=false', '--tail', '5', '--since', '2026-01-01T00:00:00Z']);
  assert.equal(out, '2026-01-02T03:04:05Z first line\n2026-01-02T03:04:06Z second\n');
  const q = new URL(seen[0]?.url ?? '', url).searchParams;
  assert.equal(seen[0]?.auth, ROOT_AUTH);
  assert.deepEqual(Object.fromEntries(q), { name: 'fn1', follow: 'false', since: '2026-01-01T00:00:00Z', tail: '5' });
  await ok(['logs', 'fn1']);
  assert.equal(new URL(seen[0]?.url ?? '', url).searchParams.get('follow'), 'true', 'follows by default, as faas-cli');
  assert.equal(await ok(['logs', 'fn1', '--format', 'json', '--follow=false']), LOGS.map((l) => `${JSON.stringify(l)}\n`).join(''));
  assert.equal(formatLogEntry(LOGS[0]!, 'keyvalue', { name: true, instance: true }), 'timestamp="2026-01-02T03:04:05Z" name="fn1" instance="fn1-abc" text="first line" ');
  assert.equal(formatLogEntry(LOGS[1]!, 'plain', { name: true, instance: true }), '2026-01-02T03:04:06Z fn1 (fn1-abc) second');
});

test('invoke: stdin as the body, no credentials sent, the answer byte for byte; --async says so on stderr; a failure names the function', async () => {
  const r = await fn(['invoke', 'fn1', '-m', 'PUT', '-H', 'X-A=1', '--query', 'a=b', '--query', 'c=d', '--content-type', 'application/json'], '{"x":1}');
  assert.equal(r.code, 0, show(r));
  // The bytes 0 1 2 255 as they came (255 alone is no UTF-8: the runner's decoding shows it as U+FFFD).
  assert.equal(r.stdout, '\u0000\u0001\u0002\ufffd');
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.auth, s.type, s.body]), [['PUT', '/function/fn1?a=b&c=d', undefined, 'application/json', '{"x":1}']]);
  const a = await fn(['invoke', 'fn1', '--async'], 'queued');
  assert.equal(a.code, 0, show(a));
  assert.equal(a.stdout, '');
  assert.match(a.stderr, /Function submitted asynchronously \(X-Call-Id: call-1\)\./);
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.type, s.body]), [['POST', '/async-function/fn1', 'text/plain', 'queued']]);
  const b = await fn(['invoke', 'broken'], 'x');
  assert.equal(b.code, 1, show(b));
  assert.match(b.stderr, /function "broken": exit status 1/);
  for (const [args, want] of [
    [['invoke', 'fn1', '-m', 'TRACE'], /--method "TRACE": must take one of these values \(GET\/POST\/PUT\/PATCH\/DELETE\)/],
    [['invoke', 'fn1', '--query', 'novalue'], /--query "novalue": must take the form of key=value/],
    [['invoke', 'fn1', '-H', '=v'], /--header "=v": must take the form of key=value \(empty key given\)/],
  ] as const) {
    const e = await fn(args);
    assert.equal(e.code, 2, show(e));
    assert.match(e.stderr, want);
  }
});

test('credentials: faas-cli\'s config for the gateway first, then berth\'s root; a 401 says to log in', async () => {
  saveAuth(join(dir, 'config', 'config.yml'), url, 'someone', 'pw');
  await ok(['secret', 'list']);
  assert.equal(seen[0]?.auth, `Basic ${Buffer.from('someone:pw').toString('base64')}`);
  rmSync(join(dir, 'config'), { recursive: true });
  const r = await runCommand(BERTH, ['--root', join(dir, 'no-root'), 'fn', 'secret', 'list'], { env: env(), cwd: dir });
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /unauthorized access, run "berth fn login"/);
});

test('describe prints faas-cli\'s fields in aligned columns (its tabwriter: the widest label, one space, then " VALUE"), and the labels, environment, secrets, requests and limits a function has', () => {
  const out = renderDescription(
    {
      name: 'fn1', image: 'fn1:latest', namespace: 'openfaas-fn', envProcess: 'cat', replicas: 2, availableReplicas: 1, invocationCount: 7,
      labels: { b: '2', a: '1' }, annotations: null, envVars: { K: 'v' }, secrets: ['s1'], limits: { memory: '128Mi', cpu: '0.5' }, requests: null,
    },
    'http://127.0.0.1:8080',
  );
  assert.equal(
    out,
    [
      'Name:                fn1',
      'Status:              Ready',
      'Replicas:            2',
      'Available replicas:  1',
      'Invocations:         7',
      'Image:               fn1:latest',
      'Function process:    cat',
      'URL:                 http://127.0.0.1:8080/function/fn1',
      'Async URL:           http://127.0.0.1:8080/async-function/fn1',
      'Labels:              a : 1',
      '                     b : 2',
      'Environment:         K=v',
      'Secrets:             s1',
      'Limits:              memory: 128Mi, cpu: 0.5',
      '',
    ].join('\n'),
  );
  assert.match(renderDescription({ name: 'x', image: 'i', namespace: 'other' }, 'http://gw'), /^Status: +Not Ready$\n[\s\S]*^URL: +http:\/\/gw\/function\/x\.other$/m);
});
