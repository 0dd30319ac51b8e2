/**
 * What the sandbox pool saves (root): N sandboxes made and attached to a
 * bridge network the usual way (namespace, loopback, bridge + portmap +
 * firewall + tuning ADD) against N taken from a pool filled beforehand;
 * and the ways of making a bare network namespace berth weighed
 * (src/network/netns.ts: in-process unshare + bind mount, `ip netns add`,
 * util-linux `unshare --net=FILE`); and a release. Prints medians and the ratio. Uses its
 * own root, run root, bridge and subnet (10.213.250.0/24), and removes them.
 *
 *   build/node bench/network-pool.ts [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEngineDatabase } from '../src/engine/store/db.ts';
import { removeNetworkRules } from '../src/network/firewall.ts';
import { createNetns, removeNetns } from '../src/network/netns.ts';
import { SandboxPool } from '../src/network/pool.ts';
import { Sandboxes } from '../src/network/sandboxes.ts';
import type { AttachRequest, NetworkRecord } from '../src/network/types.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);


async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const root = mkdtempSync('/tmp/bnb-');
const runRoot = mkdtempSync('/tmp/bnb-run-');
const db = openEngineDatabase(join(root, 'berth.db'));
const id = randomBytes(32).toString('hex');
const net: NetworkRecord = {
  id,
  name: 'bench',
  driver: 'bridge',
  bridge: `bt${id.slice(0, 8)}`,
  subnet: '10.213.250.0/24',
  gateway: '10.213.250.1',
  internal: false,
  dns: false,
  labels: {},
  options: {},
  created: new Date().toISOString(),
};
db.prepare(`INSERT INTO engine_networks (id, name, driver, bridge, subnet, gateway, created_at) VALUES (?, ?, 'bridge', ?, ?, ?, ?)`).run(
  id,
  net.name,
  net.bridge,
  net.subnet,
  net.gateway,
  net.created,
);
const containers: string[] = [];
const container = (): string => {
  const c = randomBytes(32).toString('hex');
  db.prepare(`INSERT INTO engine_containers (id, name, image_ref, image_id, created_at, options, state, restart_policy) VALUES (?, ?, 'x', 'x', ?, '{}', 'running', 'no')`).run(
    c,
    `bench-${c.slice(0, 8)}`,
    new Date().toISOString(),
  );
  containers.push(c);
  return c;
};
const req: AttachRequest = { network: net, containerId: '', containerName: '', aliases: [], ports: [] };
const sb = new Sandboxes(db, { root, runRoot });

try {
  // Namespaces alone.
  const nsDir = join(runRoot, 'bare');
  const inProcess: number[] = [];
  const ipNetns: number[] = [];
  const unshare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    inProcess.push(await time(() => createNetns(join(nsDir, `a${i}`))));
    const name = `berth-bench-${process.pid}-${i}`;
    ipNetns.push(await time(() => execFileSync('ip', ['netns', 'add', name])));
    execFileSync('ip', ['netns', 'del', name]);
    const file = join(nsDir, `u${i}`);
    unshare.push(
      await time(() => {
        closeSync(openSync(file, 'w'));
        execFileSync('unshare', [`--net=${file}`, 'true']);
      }),
    );
    await removeNetns(join(nsDir, `a${i}`));
    await removeNetns(file);
  }
  console.log(`netns: in-process ${median(inProcess).toFixed(2)} ms, ip netns add ${median(ipNetns).toFixed(2)} ms, unshare --net=FILE ${median(unshare).toFixed(2)} ms`);

  // Warm up (the first ADD creates the bridge and the plugins' chains).
  const warm = await sb.create(null);
  await sb.attach(warm.id, req);
  await sb.release(warm.id);

  const made: number[] = [];
  const boxes: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = container();
    made.push(
      await time(async () => {
        const box = await sb.create(c);
        await sb.attach(box.id, req);
        boxes.push(box.id);
      }),
    );
  }
  const released: number[] = [];
  for (const b of boxes.splice(0)) released.push(await time(() => sb.release(b)));
  console.log(`release ${median(released).toFixed(1)} ms (DEL of the chain, namespace gone)`);

  const pool = new SandboxPool(sb, net, { size: RUNS });
  pool.start();
  await pool.settled();
  const taken: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = container();
    taken.push(
      await time(() => {
        const box = pool.take(c, req);
        if (box === undefined) throw new Error('pool empty');
        boxes.push(box.id);
      }),
    );
  }
  await pool.close();
  for (const b of boxes.splice(0)) await sb.release(b);
  const m = median(made);
  const tk = median(taken);
  console.log(`create+attach ${m.toFixed(1)} ms, pool take ${tk.toFixed(2)} ms (median of ${RUNS}); create+attach / take = ${(m / tk).toFixed(0)}x`);
} finally {
  for (const row of db.prepare('SELECT id FROM engine_sandboxes').all()) await sb.release(String(row['id'])).catch(() => undefined);
  await sb.close();
  try {
    execFileSync('ip', ['link', 'del', net.bridge], { stdio: 'ignore' });
  } catch {
    // Never made.
  }
  await removeNetworkRules(net);
  db.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(runRoot, { recursive: true, force: true });
}
