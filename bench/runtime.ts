/**
 * berth-runtime against runc, on the same bundle in the same run:
 *
 *   - `run` of /bin/true (one command, foreground),
 *   - the create → start → delete cycle (three commands),
 *   - the library path: create → start → wait → delete from one resident
 *     process, as the engine uses the runtime (no CLI start-up at all),
 *   - Node's bare start-up (`node -e 0`), the tax every berth-runtime
 *     command pays and runc does not.
 *
 * berth-runtime is the command as users run it: build/berth-runtime, the
 * native front that starts the command line (native/front).
 *
 * Prints medians and ratios. Runs are interleaved so drift hits all alike.
 *
 *   build/node bench/runtime.ts [--runs 30] [--limits]
 *
 * --limits adds a memory limit, a pids limit and the default seccomp
 * profile to the bundle (the issue 3 comparison).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../src/oci/default-spec.ts';
import { runtimeContext } from '../src/runtime/lifecycle/context.ts';
import { create } from '../src/runtime/lifecycle/create.ts';
import { deleteContainer } from '../src/runtime/lifecycle/delete.ts';
import { start } from '../src/runtime/lifecycle/start.ts';
import { defaultSeccompProfile } from '../src/runtime/seccomp/index.ts';
import { makeRootfs } from '../test/helpers/runtime.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 30) || 30;
const limits = args.includes('--limits');
const repo = join(import.meta.dirname, '..');
const node = join(repo, 'build', 'node');
const berth = join(repo, 'build', 'berth-runtime');

const work = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const bundle = join(work, 'bundle');
makeRootfs(bundle);
const spec = defaultSpec();
spec.process!.terminal = false;
spec.process!.args = ['/bin/true'];
if (limits) {
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 64 } };
  spec.linux!.seccomp = defaultSeccompProfile({ capabilities: spec.process!.capabilities?.bounding ?? [] });
}
writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
const berthRoot = join(work, 'berth-state');
const runcRoot = join(work, 'runc-state');

function sh(cmd: string, argv: string[]): number {
  const t0 = process.hrtime.bigint();
  // No pipes: a created container holds its stdio until it runs, and spawnSync would wait for it.
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}`);
  return ms;
}

let n = 0;
const cases: Record<string, () => Promise<number> | number> = {
  'node -e 0': () => sh(node, ['-e', '0']),
  'berth-runtime run': () => sh(berth, ['--root', berthRoot, 'run', '--bundle', bundle, `b${n++}`]),
  'runc run': () => sh('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `r${n++}`]),
  'berth-runtime create+start+delete': () => {
    const id = `bc${n++}`;
    return sh(berth, ['--root', berthRoot, 'create', '--bundle', bundle, id]) + sh(berth, ['--root', berthRoot, 'start', id]) + sh(berth, ['--root', berthRoot, 'delete', '--force', id]);
  },
  'runc create+start+delete': () => {
    const id = `rc${n++}`;
    return sh('runc', ['--root', runcRoot, 'create', '--bundle', bundle, id]) + sh('runc', ['--root', runcRoot, 'start', id]) + sh('runc', ['--root', runcRoot, 'delete', '--force', id]);
  },
  'berth library create+start+wait+delete': async () => {
    const ctx = runtimeContext(berthRoot);
    const id = `bl${n++}`;
    const t0 = process.hrtime.bigint();
    const created = await create(ctx, id, { bundle, wait: true, stdio: ['ignore', 'ignore', 'inherit'] });
    await start(ctx, id);
    await created.execution.exited;
    await deleteContainer(ctx, id);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  },
};

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
try {
  for (let i = 0; i < 3; i++) for (const c of Object.values(cases)) await c();
  for (let i = 0; i < runs; i++) {
    for (const [name, c] of Object.entries(cases)) samples[name]!.push(await c());
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const med: Record<string, number> = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
console.log(`berth-runtime vs runc, ${runs} runs each, medians${limits ? ' (memory + pids limits, default seccomp profile)' : ''}`);
for (const [k, v] of Object.entries(med)) console.log(`  ${k.padEnd(42)} ${v.toFixed(1).padStart(8)} ms`);
const tax = med['node -e 0']!;
const r = (a: number, b: number): string => (a / b).toFixed(2);
console.log('ratios');
console.log(`  run:   berth/runc ${r(med['berth-runtime run']!, med['runc run']!)}; (berth - node tax)/runc ${r(med['berth-runtime run']! - tax, med['runc run']!)}`);
console.log(
  `  cycle: berth/runc ${r(med['berth-runtime create+start+delete']!, med['runc create+start+delete']!)}; (berth - 3 node taxes)/runc ${r(med['berth-runtime create+start+delete']! - 3 * tax, med['runc create+start+delete']!)}`,
);
console.log(`  library cycle is ${r(med['runc create+start+delete']!, med['berth library create+start+wait+delete']!)}x faster than runc's CLI cycle`);
