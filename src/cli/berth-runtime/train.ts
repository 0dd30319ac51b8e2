/**
 * Trains berth-runtime's code cache: runs the commands of a container's life
 * once, in this one process, on a throwaway busybox bundle, so that the V8
 * code cache the launcher writes at exit holds every function they compile
 * (Node's own compile cache keeps only what a module compiles before it
 * first runs, so every start would compile the rest again). scripts/build.ts
 * runs it after each build as `BERTH_TRAIN_CODE_CACHE=1 build/berth-runtime`,
 * under the front, as root. A command that fails is named on stderr and
 * training goes on: the cache holds what did run.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../oci/runtime-spec.ts';

const BUSYBOX = '/bin/busybox';

function makeBundle(dir: string): void {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  for (const applet of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

function setArgs(dir: string, args: string[]): void {
  const file = join(dir, 'config.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  spec.process = { ...spec.process!, terminal: false, args };
  writeFileSync(file, JSON.stringify(spec));
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
  } finally {
    for (const leftover of [id, `${id}-run`]) await main(['--root', root, 'delete', '--force', leftover]).catch(() => 1);
    rmSync(work, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}
