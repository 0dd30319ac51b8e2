/** The pool's bookkeeping against a fake Sandboxes: fitting requests, one refill at a time, bounded rounds, close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SandboxPool, type PoolSandboxes } from '../../../src/network/pool.ts';
import type { AttachRequest, NetworkRecord, SandboxInfo } from '../../../src/network/types.ts';

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
