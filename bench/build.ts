/**
 * `berth build` against `buildah bud` on the same Containerfile and context
 * (root): a cold build (--no-cache) and a rebuild answered by the cache.
 * Both start from the same busybox image (berth's, exported as an OCI
 * layout for buildah) and write to their own fresh stores; buildah runs
 * with --isolation chroot (no container runtime) and the overlay driver
 * when it works here, vfs otherwise. Prints the median of each and the
 * ratio buildah/berth (above 1: berth is faster).
 *
 *   build/node bench/build.ts [--runs N] [--files N] [--big-mb N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeRootfs } from '../test/helpers/runtime.ts';

const REPO = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, files: { type: 'string', default: '2000' }, 'big-mb': { type: 'string', default: '32' } } });
const RUNS = Number(values.runs);
const FILES = Number(values.files);
const BIG = Number(values['big-mb']) << 20;

// Lower case throughout: buildah names an image pulled from an OCI layout after the layout's path.
const dir = join(tmpdir(), `berth-bench-build-${randomBytes(6).toString('hex')}`);
mkdirSync(dir);

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

function makeContext(): string {
  const ctx = join(dir, 'context');
  let x = 12345;
  const next = (): number => (x = (x * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < FILES; i++) {
    const d = join(ctx, 'files', `d${i % 40}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), Buffer.alloc(next() % 4000, String.fromCharCode(97 + (i % 26))));
  }
  const big = Buffer.allocUnsafe(BIG);
  for (let i = 0; i < BIG; i += 4) big.writeUInt32LE(next(), i);
  writeFileSync(join(ctx, 'big.bin'), big);
  writeFileSync(
    join(ctx, 'Containerfile'),
    'FROM localhost/busybox\nCOPY files/ /files/\nRUN find /files -type f | wc -l > /count && md5sum /files/d1/f1.txt > /sum\nCOPY big.bin /big.bin\nRUN md5sum /big.bin > /big.sum\nENV DONE=1\n',
  );
  return ctx;
}

function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

try {
  const ctx = makeContext();
  const rootfs = makeRootfs(join(dir, 'base'));
  const node = join(REPO, 'build', 'node');
  const berth = (root: string, ...args: string[]): string => sh(node, [join(REPO, 'src/cli/berth/main.ts'), '--root', root, ...args]);
  const berthRoot = join(dir, 'berth');
  berth(berthRoot, '--quiet', 'import', rootfs, 'busybox');
  const layout = join(dir, 'layout');
  berth(berthRoot, '--quiet', 'image', 'copy', 'berth:busybox', `oci:${layout}:busybox`);

  let driver = 'overlay';
  const buildahBase = (): string[] => ['--root', join(dir, 'buildah', 'root'), '--runroot', join(dir, 'buildah', 'run'), '--storage-driver', driver];
  try {
    sh('buildah', [...buildahBase(), 'pull', '-q', `oci:${layout}:busybox`]);
  } catch {
    driver = 'vfs';
    sh('buildah', [...buildahBase(), 'pull', '-q', `oci:${layout}:busybox`]);
  }
  const pulled = sh('buildah', [...buildahBase(), 'images', '-q']).trim().split('\n')[0] ?? '';
  sh('buildah', [...buildahBase(), 'tag', pulled, 'localhost/busybox']);
  const buildah = (...args: string[]): string => sh('buildah', [...buildahBase(), 'bud', '--isolation', 'chroot', '--pull=never', '--layers', '-q', ...args, ctx]);

  const results: Record<string, { berth: number[]; buildah: number[] }> = { cold: { berth: [], buildah: [] }, cached: { berth: [], buildah: [] } };
  for (let i = 0; i < RUNS; i++) {
    results.cold?.berth.push(timed(() => berth(berthRoot, '--quiet', 'build', '--no-cache', '-t', 'bench', ctx)));
    results.cold?.buildah.push(timed(() => buildah('--no-cache', '-t', 'bench')));
    results.cached?.berth.push(timed(() => berth(berthRoot, '--quiet', 'build', '-t', 'bench', ctx)));
    results.cached?.buildah.push(timed(() => buildah('-t', 'bench')));
  }
  console.log(`berth build vs buildah bud (isolation chroot, ${driver} storage); ${FILES} small files + ${BIG >> 20} MiB; median of ${RUNS}`);
  for (const [name, r] of Object.entries(results)) {
    const b = median(r.berth);
    const a = median(r.buildah);
    console.log(`${name.padEnd(7)} berth ${b.toFixed(2)} s   buildah ${a.toFixed(2)} s   ratio buildah/berth ${(a / b).toFixed(2)}`);
  }
} finally {
  // buildah's overlay storage may hold mounts under the directory: let buildah unmount them first.
  spawnSync('buildah', ['--root', join(dir, 'buildah', 'root'), '--runroot', join(dir, 'buildah', 'run'), 'rm', '--all'], { stdio: 'ignore' });
  spawnSync('buildah', ['--root', join(dir, 'buildah', 'root'), '--runroot', join(dir, 'buildah', 'run'), 'unshare', 'true'], { stdio: 'ignore' });
  try {
    execFileSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
  } catch {
    // Nothing mounted.
  }
  rmSync(dir, { recursive: true, force: true });
}
