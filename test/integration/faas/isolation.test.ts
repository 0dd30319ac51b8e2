/**
 * What a function's replica can reach and do, seen from inside it (as
 * root, a real berthd): Docker's default seccomp filter and capabilities,
 * a read-only root when the deployment asks, no berthd socket, and no way
 * into the gateway's management API. The gateway here listens on every
 * address (berthd --gateway 0.0.0.0:0), so the replica can reach it over
 * its bridge: /function/ answers it (OpenFaaS's function chaining),
 * /system/* and /metrics refuse it with 403 even with the gateway's
 * credentials, while a plain container on the same network gets the
 * answer those credentials earn (the refusal is the replica's, not the
 * network's).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { gatewayClient, type GatewayClient } from '../../helpers/faas.ts';

let d: TestDaemon;
let gw: GatewayClient;
let port: string;

before(async () => {
  d = await startDaemon({ gateway: true, args: ['--gateway', '0.0.0.0:0'] });
  gw = gatewayClient(d.gateway!, d.root);
  port = new URL(d.gateway!).port;
});

after(async () => {
  await d?.stop();
});

async function deploy(name: string, extra: Record<string, unknown>): Promise<string> {
  const r = await gw.deploy({ service: name, image: 'busybox:latest', ...extra });
  assert.equal(r.status, 202, await r.text());
  await until(`function ${name} to be ready`, async () => ((((await gw.get(`/system/function/${name}`)) as { availableReplicas: number }).availableReplicas === 1) ? true : undefined), 60_000);
  const filters = JSON.stringify({ label: [`com.openfaas.function=${name}`], status: ['running'] });
  const [c] = (await d.client.json('GET', '/containers/json', { query: { filters } })) as { Id: string }[];
  assert.ok(c !== undefined, `a running replica of ${name}`);
  return c.Id;
}

/** A shell script that sends one HTTP request to the gateway through the container's default route (nc); prints the answer and "rc=N". */
function requestGateway(path: string, withAuth: boolean): string {
  const auth = withAuth ? `Authorization: ${gw.auth}\\r\\n` : '';
  return `gw=$(ip route | sed -n 's/^default via \\([0-9.]*\\).*/\\1/p'); (printf 'GET ${path} HTTP/1.0\\r\\n${auth}\\r\\n'; sleep 2) | nc -w 5 "$gw" ${port} 2>&1; echo "rc=$?"`;
}

test("a replica: Docker's default seccomp filter and capabilities, a read-only root, no berthd socket", async () => {
  const id = await deploy('confined', { envProcess: 'cat', readOnlyRootFilesystem: true });
  try {
    const status = await d.ok(['exec', id, 'grep', '-E', '^(Seccomp|CapEff|CapBnd):', '/proc/1/status']);
    assert.match(status, /^Seccomp:\s+2$/m, 'the seccomp filter is on');
    // Docker's 14 default capabilities, nothing more: no CAP_SYS_ADMIN, CAP_NET_ADMIN or CAP_SYS_PTRACE.
    assert.match(status, /^CapEff:\s+00000000a80425fb$/m, status);
    assert.match(status, /^CapBnd:\s+00000000a80425fb$/m, status);
    const writes = await d.ok(['exec', id, 'sh', '-c', 'touch /written 2>&1; echo "root=$?"; touch /tmp/written && echo tmp=0']);
    assert.match(writes, /Read-only file system/);
    assert.match(writes, /root=1/);
    assert.match(writes, /tmp=0/, 'the read-only root keeps a writable /tmp');
    const sockets = await d.ok(['exec', id, 'sh', '-c', 'ls /run/berth /var/lib/berth 2>&1; echo done']);
    assert.match(sockets, /\/run\/berth: No such file or directory/);
    assert.match(sockets, /\/var\/lib\/berth: No such file or directory/);
  } finally {
    await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'confined' }) });
  }
});

test('a replica reaches /function/ over its bridge but is refused /system/* and /metrics (403, credentials or not); a plain container with the credentials is not', async () => {
  const id = await deploy('prober', { envProcess: 'cat' });
  try {
    // Its own loopback is its own: the gateway on the host's 127.0.0.1 is not there.
    const loop = await d.ok(['exec', id, 'sh', '-c', `printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' | nc -w 5 127.0.0.1 ${port} 2>&1; echo "rc=$?"`]);
    assert.doesNotMatch(loop, /HTTP\/1\.1/, loop);
    assert.match(loop, /rc=1$/m, loop);
    const chained = await d.ok(['exec', id, 'sh', '-c', requestGateway('/function/prober', false)]);
    assert.match(chained, /^HTTP\/1\.1 200 /, `function chaining works: ${chained}`);
    for (const [path, auth] of [['/system/functions', true], ['/system/functions', false], ['/system/secrets', true], ['/metrics', false]] as const) {
      const out = await d.ok(['exec', id, 'sh', '-c', requestGateway(path, auth)]);
      assert.match(out, /^HTTP\/1\.1 403 Forbidden/, `${path} (credentials: ${auth}): ${out}`);
      assert.match(out, /forbidden to a replica of function "prober"/);
    }
    // The same request from a container that is no function's replica, on the same network: the credentials work.
    const plain = await d.ok(['run', '--rm', 'busybox', 'sh', '-c', requestGateway('/system/functions', true)]);
    assert.match(plain, /^HTTP\/1\.1 200 /, plain);
    assert.match(plain, /"name":"prober"/, plain);
  } finally {
    await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'prober' }) });
  }
});
