/**
 * testcontainers (Node.js) against a private berthd, as root: a
 * GenericContainer started with a log-message wait strategy, an exec into
 * it, and its stop; then one with an exposed port reached from the host
 * (testcontainers asks for HostPort "0": any free port).
 * Its reaper (Ryuk) needs an image from the internet: it is turned off as
 * testcontainers documents (TESTCONTAINERS_RYUK_DISABLED), and the test
 * removes what it made. testcontainers reads DOCKER_HOST when its client
 * is first made: the module is imported only once the daemon is up.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type * as Testcontainers from 'testcontainers';
import { startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let tc: typeof Testcontainers;
before(async () => {
  d = await startDaemon();
  process.env['DOCKER_HOST'] = `unix://${d.socket}`;
  process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] = '127.0.0.1';
  tc = await import('testcontainers');
});
after(async () => {
  await d?.stop();
});

test('a GenericContainer with a log-message wait strategy starts, execs and stops', async () => {
  const container = await new tc.GenericContainer('busybox')
    .withCommand(['sh', '-c', 'echo starting; sleep 0.2; echo "ready to serve"; exec sleep 1000'])
    .withNetworkMode('none')
    .withLabels({ owner: 'berth-test' })
    .withWaitStrategy(tc.Wait.forLogMessage('ready to serve'))
    .start();
  try {
    const logs: string[] = [];
    const stream = await container.logs();
    stream.on('data', (line: string | Buffer) => logs.push(String(line)));
    const r = await container.exec(['sh', '-c', 'echo from-exec; exit 2']);
    assert.equal(r.exitCode, 2);
    assert.equal(r.output, 'from-exec\n');
    assert.equal(container.getLabels()['owner'], 'berth-test');
    stream.destroy();
  } finally {
    await container.stop({ remove: true });
  }
  const left = (await d.client.json('GET', '/containers/json', { query: { all: true } })) as unknown[];
  assert.deepEqual(left, []);
});

test('a GenericContainer with an exposed port is reached from the host', async () => {
  const container = await new tc.GenericContainer('busybox')
    .withCommand(['sh', '-c', 'mkdir -p /www && echo served-by-berth > /www/index.html && exec httpd -f -p 8080 -h /www'])
    .withExposedPorts(8080)
    .withWaitStrategy(tc.Wait.forListeningPorts())
    .start();
  try {
    const res = await fetch(`http://${container.getHost()}:${container.getMappedPort(8080)}/index.html`);
    assert.equal(await res.text(), 'served-by-berth\n');
  } finally {
    await container.stop({ remove: true });
  }
});
