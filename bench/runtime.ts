/**
 * berth-runtime against runc as users run them: each figure is the whole
 * command, from spawn to exit, Node's start-up included and nothing
 * subtracted. On the same bundle in the same run:
 *
 *   - `run` of /bin/true (one command, foreground),
 *   - the create → start → delete cycle (three commands),
 *   - `state` of a created container, its answer read through a pipe,
 *   - for reference: the library path (create → start → wait → delete from
 *     one resident process, as the engine uses the runtime) and Node's bare
 *     start-up (`node -e 0`), which every berth-runtime command pays.
 *
 * berth-runtime is the command as users run it: build/berth-runtime, the
 * native front (native/front), whose commands run in the resident command
 * line a first command left (src/cli/berth-runtime/resident.ts; the two
 * warm-up rounds start it). Beside it, "berth, own process": the same with
 * BERTH_RUNTIME_RESIDENT=0, each command starting its own Node.js, as the
 * first command after a minute without one does. A resident this script
 * started is stopped at its end.
 *
 * Each is measured on a quiet machine and again with every core kept busy
 * by CPU hogs this script starts and stops itself (each hog also leaves on
 * its own when this script goes away). Runs are interleaved, and which
 * runtime goes first alternates, so drift hits both alike.
 *
 *   build/node bench/runtime.ts [--runs 20] [--limits] [--json] [--only quiet|loaded] [--hogs N] [--berth PATH]
 *
 * --limits adds a memory limit, a pids limit and the default seccomp
 * profile to the bundle (what engines ask). --json prints one JSON object.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec } from '../src/oci/default-spec.ts';
import { runtimeContext } from '../src/runtime/lifecycle/context.ts';
import { create } from '../src/runtime/lifecycle/create.ts';
import { deleteContainer } from '../src/runtime/lifecycle/delete.ts';
import { start } from '../src/runtime/lifecycle/start.ts';
import { defaultSeccompProfile } from '../src/runtime/seccomp/index.ts';
import { makeRootfs } from '../test/helpers/runtime.ts';
import { residentPid } from '../test/helpers/resident.ts';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = Number(option('--runs') ?? 20) || 20;
const hogs = Number(option('--hogs') ?? availableParallelism()) || availableParallelism();
const only = option('--only');
const limits = args.includes('--limits');
const json = args.includes('--json');
const modes = (['quiet', 'loaded'] as const).filter((m) => only === undefined || only === m);
const repo = join(import.meta.dirname, '..');
const node = join(repo, 'build', 'node');
// --berth: another build of berth-runtime (say, one with a start-up change to measure).
const berth = option('--berth') ?? join(repo, 'build', 'berth-runtime');

/** The goals of issue 9 ("speed as users see it"): berth/runc, raw. */
const GOALS = { run: 1.0, cycle: 1.5, state: 1.5 } as const;

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

const runtimes = {
  berth: { cmd: berth, root: join(work, 'berth-state'), env: process.env },
  own: { cmd: berth, root: join(work, 'own-state'), env: { ...process.env, BERTH_RUNTIME_RESIDENT: '0' } },
  runc: { cmd: 'runc', root: join(work, 'runc-state'), env: process.env },
} as const;
type Runtime = keyof typeof runtimes;

/**
 * Milliseconds from spawn to exit of one command of `rt`. Its stdout goes nowhere, except with
 * `read`, through a pipe as callers read answers (then `read` checks it).
 */
function sh(rt: Runtime, argv: string[], read?: (stdout: string) => boolean): number {
  const { cmd, root, env } = runtimes[rt];
  const t0 = process.hrtime.bigint();
  // No pipes otherwise: a created container holds its stdio until it runs, and spawnSync would wait for it.
  const r = spawnSync(cmd, ['--root', root, ...argv], { stdio: ['ignore', read ? 'pipe' : 'ignore', 'inherit'], encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status ?? r.signal}`);
  if (read && !read(r.stdout)) throw new Error(`${cmd} ${argv.join(' ')}: unexpected output ${JSON.stringify(r.stdout)}`);
  return ms;
}

let n = 0;
const stateId = (rt: Runtime): string => `${rt}-state-${process.pid}`;
const compared = {
  run: (rt: Runtime) => sh(rt, ['run', '--bundle', bundle, `${rt}-run-${n++}`]),
  cycle: (rt: Runtime) => {
    const id = `${rt}-cycle-${n++}`;
    return sh(rt, ['create', '--bundle', bundle, id]) + sh(rt, ['start', id]) + sh(rt, ['delete', '--force', id]);
  },
  state: (rt: Runtime) => sh(rt, ['state', stateId(rt)], (out) => (JSON.parse(out) as { id?: unknown }).id === stateId(rt)),
};
type Compared = keyof typeof compared;

async function libraryCycle(): Promise<number> {
  const ctx = runtimeContext(runtimes.berth.root);
  const id = `berth-library-${n++}`;
  const t0 = process.hrtime.bigint();
  const created = await create(ctx, id, { bundle, wait: true, stdio: ['ignore', 'ignore', 'inherit'] });
  await start(ctx, id);
  await created.execution.exited;
  await deleteContainer(ctx, id);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function nodeStart(): number {
  const t0 = process.hrtime.bigint();
  spawnSync(node, ['-e', '0'], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Busy loops on every core. Each spins in slices and leaves when its stdin closes, so a hog
 * never outlives this script, and in any case after `maxSeconds`.
 */
function startHogs(count: number, maxSeconds: number): ChildProcess[] {
  const code = `const end = Date.now() + ${maxSeconds * 1000};
process.stdin.on('end', () => process.exit(0)).resume();
(function spin() { const t = Date.now() + 20; while (Date.now() < t); if (Date.now() < end) setImmediate(spin); else process.exit(0); })();`;
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'ignore', 'inherit'] }));
}

async function stopHogs(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    }),
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Pair {
  berth: number;
  runc: number;
  ratio: number;
  goal: number;
  /** Each command in its own Node.js (no resident). */
  own: number;
  ownRatio: number;
}
interface ModeResult {
  run: Pair;
  cycle: Pair;
  state: Pair;
  library: number;
  nodeStart: number;
}

async function measure(): Promise<ModeResult> {
  const samples: Record<Compared, Record<Runtime, number[]>> = {
    run: { berth: [], own: [], runc: [] },
    cycle: { berth: [], own: [], runc: [] },
    state: { berth: [], own: [], runc: [] },
  };
  const library: number[] = [];
  const bare: number[] = [];
  const once = async (record: boolean, i: number): Promise<void> => {
    const order: Runtime[] = i % 2 ? ['runc', 'own', 'berth'] : ['berth', 'own', 'runc'];
    for (const name of Object.keys(compared) as Compared[]) {
      for (const rt of order) {
        const ms = compared[name](rt);
        if (record) samples[name][rt].push(ms);
      }
    }
    const lib = await libraryCycle();
    const ns = nodeStart();
    if (record) {
      library.push(lib);
      bare.push(ns);
    }
  };
  for (let i = 0; i < 2; i++) await once(false, i);
  for (let i = 0; i < runs; i++) await once(true, i);
  const pair = (name: Compared): Pair => {
    const b = median(samples[name].berth);
    const r = median(samples[name].runc);
    const o = median(samples[name].own);
    return { berth: b, runc: r, ratio: b / r, goal: GOALS[name], own: o, ownRatio: o / r };
  };
  return { run: pair('run'), cycle: pair('cycle'), state: pair('state'), library: median(library), nodeStart: median(bare) };
}

const results: Partial<Record<(typeof modes)[number], ModeResult>> = {};
const residentBefore = residentPid();
try {
  for (const rt of Object.keys(runtimes) as Runtime[]) sh(rt, ['create', '--bundle', bundle, stateId(rt)]);
  for (const mode of modes) {
    if (mode === 'quiet') {
      results.quiet = await measure();
      continue;
    }
    // Generous bound: a loaded run takes a few times a quiet one.
    const children = startHogs(hogs, 60 + runs * 10);
    try {
      results.loaded = await measure();
    } finally {
      await stopHogs(children);
    }
  }
} finally {
  for (const rt of Object.keys(runtimes) as Runtime[]) spawnSync(runtimes[rt].cmd, ['--root', runtimes[rt].root, 'delete', '--force', stateId(rt)], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
  const resident = residentPid();
  if (resident !== undefined && resident !== residentBefore) process.kill(resident, 'SIGTERM');
}

if (json) {
  console.log(JSON.stringify({ runs, limits, hogs, ...results }));
} else {
  const f = (ms: number): string => ms.toFixed(1).padStart(8);
  console.log(`berth-runtime vs runc, whole commands (Node's start-up included), medians of ${runs} runs${limits ? ', memory + pids limits and the default seccomp profile' : ''}`);
  for (const mode of modes) {
    const r = results[mode]!;
    console.log(`\n${mode === 'quiet' ? 'no added load' : `${hogs} CPU hogs added`}       berth ms   runc ms   berth/runc   goal     own process ms  own/runc`);
    const row = (label: string, p: Pair): void =>
      console.log(
        `  ${label.padEnd(24)}${f(p.berth)}  ${f(p.runc)}   ${p.ratio.toFixed(2).padStart(8)}   ≤ ${p.goal.toFixed(1)}${p.ratio <= p.goal ? '            ' : '  (not met) '}${f(p.own)}  ${p.ownRatio.toFixed(2).padStart(8)}`,
      );
    row('run', r.run);
    row('create → start → delete', r.cycle);
    row('state', r.state);
    console.log(`  library cycle (resident) ${f(r.library)}  ${(r.cycle.runc / r.library).toFixed(1)}x faster than runc's three commands`);
    console.log(`  node -e 0                ${f(r.nodeStart)}`);
  }
}
