/**
 * The /networks routes over a real network store on a temporary database,
 * through a real server and client: docker's shapes and statuses, fields
 * berth does not do refused naming them, events, and connect/disconnect
 * through a connector (501 without one).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ApiClient } from '../../../src/api/client.ts';
import { networkRoutes, type NetworkConnector } from '../../../src/api/routes/networks.ts';
import { EngineEvents, type EngineEvent } from '../../../src/engine/events.ts';
import { ContainerStore } from '../../../src/engine/store/containers.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { NetworkStore } from '../../../src/network/networks.ts';
import { onCleanup, tempDir } from '../../helpers/cleanup.ts';
import { startApiServer } from '../../helpers/api.ts';

interface Setup {
  client: ApiClient;
  networks: NetworkStore;
  containers: ContainerStore;
  events: EngineEvent[];
  calls: unknown[][];
}

async function setup(t: TestContext, withConnector: boolean): Promise<Setup> {
  const db = openEngineDatabase(join(tempDir(t), 'berth.db'));
  onCleanup(t, () => db.close());
  const networks = new NetworkStore(db, { hostNetworks: () => [], interfaceExists: () => false });
  networks.ensureDefault();
  const engineEvents = new EngineEvents();
  const events: EngineEvent[] = [];
  engineEvents.subscribe((e) => events.push(e));
  const calls: unknown[][] = [];
  const connector: NetworkConnector = {
    connectNetwork: (container, network, endpoint) => {
      calls.push(['connect', container, network, endpoint]);
      return Promise.resolve();
    },
    disconnectNetwork: (container, network, force) => {
      calls.push(['disconnect', container, network, force]);
      return Promise.resolve();
    },
  };
  const { client } = await startApiServer(t, (s) => networkRoutes(s.router, { networks, events: engineEvents, connector: withConnector ? connector : undefined }));
  return { client, networks, containers: new ContainerStore(db), events, calls };
}

async function status(client: ApiClient, method: string, path: string, body?: unknown, query?: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const a = await client.request(method, path, { ...(body === undefined ? {} : { body }), ...(query === undefined ? {} : { query }) });
  return { status: a.status, body: a.body.length === 0 ? undefined : (JSON.parse(a.body.toString()) as unknown) };
}

// What `docker network create --subnet ... --label ...` sends (docker CLI 28).
const DOCKER_BODY = {
  Name: 'app',
  Driver: 'bridge',
  Scope: '',
  EnableIPv6: null,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.7.0.0/16', IPRange: '10.7.1.0/24', Gateway: '10.7.0.9' }] },
  Internal: true,
  Attachable: false,
  Ingress: false,
  ConfigOnly: false,
  ConfigFrom: null,
  Options: {},
  Labels: { tier: 'web' },
};

test("create answers 201 {Id, Warning}; inspect gives docker's Network object", async (t) => {
  const s = await setup(t, false);
  const created = await status(s.client, 'POST', '/v1.43/networks/create', DOCKER_BODY);
  assert.equal(created.status, 201);
  const { Id } = created.body as { Id: string };
  assert.deepEqual(created.body, { Id, Warning: '' });
  const inspect = await status(s.client, 'GET', `/networks/${Id.slice(0, 12)}`, undefined, { verbose: 'true', scope: 'local' });
  assert.equal(inspect.status, 200);
  const n = inspect.body as Record<string, unknown>;
  assert.deepEqual(n, {
    Name: 'app',
    Id,
    Created: n['Created'],
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '10.7.0.0/16', Gateway: '10.7.0.9', IPRange: '10.7.1.0/24' }] },
    Internal: true,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: { tier: 'web' },
  });
  assert.match(String(n['Created']), /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(s.events.map((e) => [e.Type, e.Action, e.Actor.ID, e.Actor.Attributes]), [['network', 'create', Id, { name: 'app', type: 'bridge' }]]);
});

test('fields berth does not do are refused with 400 naming the field; docker errors keep their statuses', async (t) => {
  const s = await setup(t, false);
  const cases: [unknown, number, string][] = [
    [{ ...DOCKER_BODY, EnableIPv6: true }, 400, 'EnableIPv6'],
    [{ ...DOCKER_BODY, Attachable: true }, 400, 'Attachable'],
    [{ ...DOCKER_BODY, Ingress: true }, 400, 'Ingress'],
    [{ ...DOCKER_BODY, ConfigOnly: true }, 400, 'ConfigOnly'],
    [{ ...DOCKER_BODY, ConfigFrom: { Network: 'x' } }, 400, 'ConfigFrom'],
    [{ ...DOCKER_BODY, Scope: 'swarm' }, 400, 'Scope'],
    [{ ...DOCKER_BODY, IPAM: { Driver: 'dhcp' } }, 400, 'IPAM.Driver'],
    [{ ...DOCKER_BODY, IPAM: { Options: { a: 'b' } } }, 400, 'IPAM.Options'],
    [{ ...DOCKER_BODY, IPAM: { Config: [{ Subnet: 'fd00::/64' }] } }, 400, 'IPv6'],
    [{ ...DOCKER_BODY, IPAM: { Config: [{ Subnet: '10.8.0.0/16' }, { Subnet: '10.9.0.0/16' }] } }, 400, 'IPAM.Config'],
    [{ ...DOCKER_BODY, IPAM: { Config: [{ Subnet: '10.8.0.0/16', AuxiliaryAddresses: { a: '10.8.0.5' } }] } }, 400, 'AuxiliaryAddresses'],
    [{ ...DOCKER_BODY, Name: '' }, 400, 'Name'],
    [{ ...DOCKER_BODY, Labels: { a: 1 } }, 400, 'Labels'],
    [{ ...DOCKER_BODY, Driver: 'overlay' }, 501, 'overlay'],
    [{ ...DOCKER_BODY, IPAM: { Config: [{ Subnet: '10.8.0.1/16' }] } }, 400, 'it should be 10.8.0.0/16'],
    [{ ...DOCKER_BODY, IPAM: { Config: [{ Subnet: '10.8.0.0/16', Gateway: '10.9.0.1' }] } }, 400, 'not inside subnet'],
    [{ ...DOCKER_BODY, Name: 'bridge' }, 403, 'predefined bridge'],
    ['not an object', 400, 'body'],
  ];
  for (const [body, code, part] of cases) {
    const a = await status(s.client, 'POST', '/networks/create', body);
    assert.equal(a.status, code, `${JSON.stringify(body)} → ${JSON.stringify(a.body)}`);
    assert.ok((a.body as { message: string }).message.includes(part), `${JSON.stringify(a.body)} should name ${part}`);
  }
  assert.equal((await status(s.client, 'POST', '/networks/create', DOCKER_BODY)).status, 201);
  const again = await status(s.client, 'POST', '/networks/create', { ...DOCKER_BODY, IPAM: {} });
  assert.deepEqual(again, { status: 409, body: { message: 'network with name app already exists' } });
  const overlap = await status(s.client, 'POST', '/networks/create', { ...DOCKER_BODY, Name: 'other' });
  assert.equal(overlap.status, 403);
  assert.equal(s.networks.list().length, 2, 'only the default network and app');
  assert.deepEqual(s.events.map((e) => e.Action), ['create']);
});

test('list with filters (no Containers in the list, as dockerd since 1.28), delete 204, 403 for the default and in-use, 404 unknown', async (t) => {
  const s = await setup(t, false);
  const a = s.networks.create({ name: 'a', labels: { k: 'v' } });
  const b = s.networks.create({ name: 'b' });
  const names = async (filters?: string): Promise<string[]> =>
    ((await s.client.json('GET', '/networks', { query: filters === undefined ? {} : { filters } })) as { Name: string; Containers: unknown }[]).map((n) => {
      assert.deepEqual(n.Containers, {});
      return n.Name;
    });
  assert.deepEqual(await names(), ['a', 'b', 'bridge']);
  assert.deepEqual(await names('{"label":{"k=v":true}}'), ['a']);
  assert.deepEqual(await names('{"type":["builtin"]}'), ['bridge']);
  assert.equal((await status(s.client, 'GET', '/networks', undefined, { filters: '{"nope":["x"]}' })).status, 400);
  const { id: cid } = s.containers.beginCreate({ name: 'web', imageRef: 'busybox', imageId: 'sha256:' + 'b'.repeat(64), options: {} });
  s.networks.db.prepare('INSERT INTO engine_container_networks (container_id, network_id) VALUES (?, ?)').run(cid, b.id);
  assert.equal((await status(s.client, 'DELETE', '/networks/bridge')).status, 403);
  const busy = await status(s.client, 'DELETE', '/networks/b');
  assert.equal(busy.status, 403);
  assert.match((busy.body as { message: string }).message, /network b .*has active endpoints/);
  assert.deepEqual(await status(s.client, 'DELETE', '/networks/nope'), { status: 404, body: { message: 'network nope not found' } });
  assert.deepEqual(await status(s.client, 'DELETE', `/networks/${a.id}`), { status: 204, body: undefined });
  s.networks.create({ name: 'idle' });
  assert.deepEqual(await s.client.json('POST', '/networks/prune'), { NetworksDeleted: ['idle'] });
  assert.deepEqual(await names(), ['b', 'bridge']);
  assert.deepEqual(s.events.map((e) => `${e.Action} ${e.Actor.Attributes['name']}`), ['destroy a', 'destroy idle']);
});

test('connect and disconnect answer 501 naming "network connect" without a connector', async (t) => {
  const s = await setup(t, false);
  for (const path of ['/networks/bridge/connect', '/networks/bridge/disconnect']) {
    const a = await status(s.client, 'POST', path, { Container: 'web' });
    assert.equal(a.status, 501);
    assert.match((a.body as { message: string }).message, /network connect/);
  }
});

test('connect and disconnect go to the connector with the resolved network and docker\'s EndpointConfig (the connector publishes their events)', async (t) => {
  const s = await setup(t, true);
  const n = s.networks.create({ name: 'app' });
  const body = { Container: 'web', EndpointConfig: { Aliases: ['db'], IPAMConfig: { IPv4Address: '172.18.0.9' }, MacAddress: '02:42:ac:12:00:09' } };
  assert.deepEqual(await status(s.client, 'POST', `/networks/${n.id.slice(0, 8)}/connect`, body), { status: 200, body: undefined });
  assert.deepEqual(await status(s.client, 'POST', '/networks/app/disconnect', { Container: 'web', Force: true }), { status: 200, body: undefined });
  assert.deepEqual(s.calls, [
    ['connect', 'web', n.id, { aliases: ['db'], ipv4Address: '172.18.0.9', macAddress: '02:42:ac:12:00:09' }],
    ['disconnect', 'web', n.id, true],
  ]);
  assert.deepEqual(s.events, []);
  assert.equal((await status(s.client, 'POST', '/networks/nope/connect', body)).status, 404);
  const v6 = await status(s.client, 'POST', '/networks/app/connect', { Container: 'web', EndpointConfig: { IPAMConfig: { IPv6Address: 'fd00::2' } } });
  assert.equal(v6.status, 400);
  assert.match((v6.body as { message: string }).message, /IPv6Address/);
  assert.equal((await status(s.client, 'POST', '/networks/app/connect', {})).status, 400);
  assert.equal(s.calls.length, 2);
});
