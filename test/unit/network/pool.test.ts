/** The pool's bookkeeping against a fake Sandboxes: fitting requests, one refill at a time, bounded rounds, close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SandboxPool, type PoolSandboxes } from '../../../src/network/pool.ts';
import type { AttachRequest, EndpointInfo, NetworkRecord, SandboxInfo } from '../../../src/network/types.ts';

const net = { id: 'n1', name: 'bridge' } as NetworkRecord;
const req = (extra: Partial<AttachRequest> = {}): AttachRequest => ({ network: net, containerId: '', containerName: '', aliases: [], ports: [], ...extra });

function fake(failAttach = () => false): PoolSandboxes & { boxes: Map<string, { container: string | null; attached: boolean }>; creating: number; maxCreating: number; creates: number } {
  let n = 0;
  const boxes = new Map<string, { container: string | null; attached: boolean }>();
  const f = {
    boxes,
    creating: 0,
    maxCreating: 0,
    creates: 0,
    async create(containerId: string | null): Promise<SandboxInfo> {
      f.creating++;
      f.creates++;
      f.maxCreating = Math.max(f.maxCreating, f.creating);
      await new Promise((r) => setImmediate(r));
      const id = `s${n++}`;
      boxes.set(id, { container: containerId, attached: false });
      f.creating--;
      return { id, netns: `/x/${id}`, endpoints: [] };
    },
    async attach(id: string) {
      await new Promise((r) => setImmediate(r));
      if (failAttach()) throw new Error('attach failed');
      boxes.get(id)!.attached = true;
      return { networkId: 'n1', networkName: 'bridge', ifname: 'eth0', ipv4: '10.0.0.2/24', gateway: '10.0.0.1', mac: '', aliases: [], ports: [] };
    },
    release(id: string) {
      boxes.delete(id);
      return Promise.resolve();
    },
    pooled: () => [...boxes].filter(([, b]) => b.container === null && b.attached).map(([id]) => id),
    assign(id: string, container: string) {
      const b = boxes.get(id);
      if (b === undefined || b.container !== null) return false;
      b.container = container;
      return true;
    },
    unassign(id: string, container: string) {
      const b = boxes.get(id);
      if (b === undefined || b.container !== container) return false;
      b.container = null;
      return true;
    },
    get: (id: string): SandboxInfo => ({ id, netns: `/x/${id}`, endpoints: [] }),
  };
  return f;
}

test('fills to its size with one creation at a time, serves fitting requests, refills after a take', async () => {
  const sb = fake();
  const pool = new SandboxPool(sb, net, { size: 3, refillDelayMs: 0 });
  pool.start();
  pool.start();
  await pool.settled();
  assert.equal(pool.ready(), 3);
  assert.equal(sb.maxCreating, 1);
  assert.equal(pool.take('c1', req({ ports: [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }] })), undefined);
  assert.equal(pool.take('c1', req({ ipv4Address: '10.0.0.9' })), undefined);
  assert.equal(pool.take('c1', req({ network: { ...net, id: 'other' } })), undefined);
  const a = pool.take('c1', req());
  const b = pool.take('c2', req());
  assert.ok(a !== undefined && b !== undefined && a.id !== b.id);
  assert.equal(sb.boxes.get(a.id)!.container, 'c1');
  await pool.settled();
  assert.equal(pool.ready(), 3);
  assert.equal(sb.maxCreating, 1);
  await pool.close();
  assert.equal(pool.ready(), 0);
  assert.equal(sb.boxes.size, 2, 'only the taken ones are left');
  assert.equal(pool.take('c3', req()), undefined);
});

test('a failing refill stops its round and releases what it half made', async () => {
  const sb = fake(() => true);
  const pool = new SandboxPool(sb, net, { size: 5, refillDelayMs: 0 });
  pool.start();
  await pool.settled();
  assert.equal(sb.creates, 1, 'one try per round, not a loop');
  assert.equal(sb.boxes.size, 0);
  await pool.close();
});

test('size 0 makes nothing', async () => {
  const sb = fake();
  const pool = new SandboxPool(sb, net, { size: 0 });
  pool.start();
  await pool.settled();
  assert.equal(sb.creates, 0);
  assert.equal(pool.take('c', req()), undefined);
});

test('a gone container\'s sandbox goes back to the pool only when it is what the pool makes, the pool has room and no socket is left in it', async () => {
  const sb = fake();
  const pool = new SandboxPool(sb, net, { size: 2, refillDelayMs: 60_000 });
  pool.start();
  await pool.settled();
  const a = pool.take('c1', req())!;
  const b = pool.take('c2', req())!;
  assert.equal(pool.ready(), 0);
  const endpoint: EndpointInfo = { networkId: net.id, networkName: 'bridge', ifname: 'eth0', ipv4: '10.0.0.2/24', gateway: '10.0.0.1', mac: '', aliases: [], ports: [] };
  const box = (id: string, over: Partial<EndpointInfo> = {}, more = 0): SandboxInfo => ({ id, netns: `/x/${id}`, endpoints: [{ ...endpoint, ...over }, ...Array.from({ length: more }, () => endpoint)] });
  const none = (): Promise<number> => Promise.resolve(0);
  assert.equal(await pool.giveBack(box(a.id), 'c1', () => Promise.resolve(1)), false, 'a socket left (a process, a TIME_WAIT): not reused');
  assert.equal(await pool.giveBack(box(a.id, { ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }), 'c1', none), false, 'published ports: not the pool\'s kind');
  assert.equal(await pool.giveBack(box(a.id, { networkId: 'other' }), 'c1', none), false, 'another network');
  assert.equal(await pool.giveBack(box(a.id, {}, 1), 'c1', none), false, 'two endpoints');
  assert.equal(await pool.giveBack(box(a.id), 'c2', none), false, 'not that container\'s');
  assert.equal(await pool.giveBack(box(a.id), 'c1', none), true);
  assert.equal(sb.boxes.get(a.id)!.container, null);
  assert.equal(pool.ready(), 1);
  const again = pool.take('c3', req());
  assert.equal(again?.id, a.id, 'served again');
  assert.equal(await pool.giveBack(box(b.id), 'c2', none), true);
  assert.equal(await pool.giveBack(box(a.id), 'c3', none), true);
  sb.boxes.set('s-extra', { container: 'c4', attached: true });
  sb.boxes.set('s-extra2', { container: 'c5', attached: true });
  assert.equal(await pool.giveBack(box('s-extra'), 'c4', none), true, 'beyond the size, up to twice it');
  assert.equal(pool.ready(), 3);
  sb.boxes.set('s-extra3', { container: 'c6', attached: true });
  assert.equal(await pool.giveBack(box('s-extra2'), 'c5', none), true);
  assert.equal(await pool.giveBack(box('s-extra3'), 'c6', none), false, 'twice the size: full');
  await pool.close();
  assert.equal(await pool.giveBack(box(a.id), 'c3', none), false, 'a closed pool takes nothing back');
});
