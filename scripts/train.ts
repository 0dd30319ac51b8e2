/**
 * Trains berth-runtime's code caches (scripts/launcher.ts): runs the
 * commands of a container's life once, in this one process, on a throwaway
 * busybox bundle, so that the V8 code cache the launcher writes at exit
 * holds every function they compile (Node's own compile cache keeps only
 * what a module compiles before it first runs, so every start would compile
 * the rest again); then each command that has a cache of its own once more,
 * each in a process of its own that records just what it compiled.
 * scripts/build.ts runs it after each build as
 * `BERTH_TRAIN_CODE_CACHE=1 build/berth-runtime`, under the front, as root:
 * the bundle's entry point (src/cli/berth-runtime/cli.ts) then loads this
 * file and hands it its `main`, so the commands run in the process whose
 * cache is written.
 * A command that fails is named on stderr and training goes on: a cache
 * holds what did run.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.ts';
import { buildDir } from '../src/paths.ts';
import { defaultSeccompProfile } from '../src/runtime/seccomp/index.ts';

const BUSYBOX = '/bin/busybox';

/** The commands callers run most (podman: create, start, state, kill, delete, exec), with a code cache of their own. */
export const OWN_CODE_CACHE = ['run', 'create', 'start', 'state', 'exec', 'kill', 'delete'];

function makeBundle(dir: string): void {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

/** The process to run; with `limits`, resource limits and the default seccomp profile as well (what engines ask). */
function setArgs(dir: string, args: string[], limits = false): void {
  const file = join(dir, 'config.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  spec.process = { ...spec.process!, terminal: false, args };
  if (limits) {
    spec.linux = {
      ...spec.linux,
      resources: { ...spec.linux?.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 64 }, cpu: { shares: 512 } },
      seccomp: defaultSeccompProfile({ capabilities: spec.process.capabilities?.bounding ?? [] }),
    };
  }
  writeFileSync(file, JSON.stringify(spec));
}

/**
 * Each command of OWN_CODE_CACHE in a berth-runtime of its own that records its cache: `run` on the
 * spec as `berth-runtime spec` writes it, the others on a container with limits and the default
 * seccomp profile, as engines create them.
 */
function recordOwnCaches(root: string, bundle: string, id: string): number {
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const front = join(buildDir(), 'berth-runtime');
  let failed = 0;
  const record = (...argv: string[]): void => {
    const r = spawnSync(front, ['--root', root, ...argv], { env: { ...process.env, BERTH_TRAIN_CODE_CACHE: '', BERTH_CODE_CACHE_RECORD: '1', BERTH_RUNTIME_RESIDENT: '0' }, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) {
      failed++;
      process.stderr.write(`berth-runtime: training: "${argv.join(' ')}" exited with ${r.status ?? r.signal}\n`);
    }
  };
  setArgs(bundle, ['true']);
  record('run', '--bundle', bundle, `${id}-run`);
  setArgs(bundle, ['sleep', '1000'], true);
  record('create', '--bundle', bundle, id);
  record('state', id);
  record('start', id);
  record('exec', id, 'true');
  record('kill', id, 'KILL');
  record('delete', '--force', id);
  return failed;
}

export async function train(main: (argv: readonly string[]) => Promise<number>): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'berth-train-'));
  const bundle = join(work, 'bundle');
  const root = join(work, 'state');
  const id = `berth-train-${process.pid}`;
  let failed = 0;
  const run = async (...argv: string[]): Promise<number> => {
    const code = await main(['--root', root, ...argv]);
    if (code !== 0) {
      failed++;
      process.stderr.write(`berth-runtime: training: "${argv.join(' ')}" exited with ${code}\n`);
    }
    return code;
  };
  try {
    makeBundle(bundle);
    await run('spec', '--bundle', bundle);
    setArgs(bundle, ['true'], true);
    await run('run', '--bundle', bundle, `${id}-limits`);
    setArgs(bundle, ['true']);
    await run('run', '--bundle', bundle, `${id}-run`);
    setArgs(bundle, ['sleep', '1000']);
    await run('create', '--bundle', bundle, id);
    await run('state', id);
    await run('start', id);
    await run('list');
    await run('list', '--format', 'json');
    await run('exec', id, 'true');
    await run('ps', '--format', 'json', id);
    await run('pause', id);
    await run('resume', id);
    await run('events', '--stats', id);
    await run('update', '--pids-limit', '100', id);
    await run('kill', id, 'KILL');
    await run('delete', '--force', id);
    await run('features');
    // The error path: a container that does not exist.
    if ((await main(['--root', root, 'state', id])) === 0) failed++;
    failed += recordOwnCaches(root, bundle, `${id}-own`);
  } finally {
    for (const leftover of [id, `${id}-run`, `${id}-limits`, `${id}-own`, `${id}-own-run`]) await main(['--root', root, 'delete', '--force', leftover]).catch(() => 1);
    rmSync(work, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}
