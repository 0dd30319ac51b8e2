/**
 * Pull + unpack, end to end, against the reference tools in the same run:
 * the ~200 MB, 5-layer image of bench/unpack-image.ts (many small files, a
 * few large ones, generated deterministically) is pushed to a loopback
 * docker-registry, then pulled until a runnable rootfs exists, RUNS times
 * (default 5) each, fresh storage every time:
 *   berth         berth pull --unpack BUNDLE       (layers stream into the unpacker as they land)
 *   skopeo+umoci  skopeo copy docker://… oci:…  then  umoci unpack
 *   podman        podman pull (its own temporary storage, overlay driver)
 * Prints each median, and berth's ratio to the best of the others (goal: ≤ 0.8).
 *
 *   build/node bench/pull.ts [RUNS] [--tmpfs]   (as root; BERTH_BENCH_DIR moves the work dir;
 *                                                --tmpfs puts every tool's storage on a tmpfs)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.ts';
import { benchImage, BENCH_TAG } from './unpack-image.ts';
import { median } from './stats.ts';

const argv = process.argv.slice(2);
const runs = Number(argv.find((a) => /^\d+$/.test(a)) ?? '5');
// --tmpfs: every tool's storage and rootfs on a tmpfs mounted for the run, so no tool pays for the
// previous one's writeback or the disk's discards (the image and the registry stay on disk).
const useTmpfs = argv.includes('--tmpfs');
const work = process.env['BERTH_BENCH_DIR'] ?? '/var/tmp/berth-bench-pull';
mkdirSync(work, { recursive: true });
const runsDir = useTmpfs ? join(work, 'tmpfs') : work;
if (useTmpfs) {
  mkdirSync(runsDir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3g', 'berth-bench-pull', runsDir]);
}
const repo = join(import.meta.dirname, '..');
const bundled = join(repo, 'build', 'berth.cjs');
const berthCmd = existsSync(bundled) ? [process.execPath, bundled] : [process.execPath, join(repo, 'src/cli/berth/main.ts')];

function sh(argv: string[]): void {
  const [cmd = '', ...args] = argv;
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function unmountUnder(dir: string): void {
  const targets = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((t) => t.startsWith(dir)).reverse();
  for (const t of targets) spawnSync('umount', ['-l', t]);
}

function clean(dir: string): void {
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}


const image = await benchImage(work);
const registry = await startRegistry();
const ref = `${registry.host}/bench/image:v1`;
try {
  sh([...berthCmd, '--root', join(work, 'seed-root'), '--quiet', 'image', 'copy', `oci:${image.dir}:${BENCH_TAG}`, `docker://${ref}`]);
  clean(join(work, 'seed-root'));

  const tools: Record<string, (dir: string) => string[][]> = {
    berth: (dir) => [[...berthCmd, '--root', join(dir, 'store'), '--quiet', 'pull', '--unpack', join(dir, 'bundle'), ref]],
    'skopeo+umoci': (dir) => [
      ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'layout')}:v1`],
      ['umoci', 'unpack', '--image', `${join(dir, 'layout')}:v1`, join(dir, 'bundle')],
    ],
    podman: (dir) => [
      ['podman', '--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--cgroup-manager=cgroupfs', '--events-backend=file', 'pull', '--quiet', '--tls-verify=false', ref],
    ],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(tools).map((k) => [k, []]));
  const names = Object.keys(tools);
  for (let i = 0; i < runs; i++) {
    // Rotate the order so no tool always runs right after another's writeback.
    const order = names.map((_, j) => names[(i + j) % names.length] ?? '');
    for (const name of order) {
      const dir = join(runsDir, `run-${name.replace(/\W/g, '_')}`);
      clean(dir);
      mkdirSync(dir, { recursive: true });
      execFileSync('sync');
      const start = process.hrtime.bigint();
      for (const argv of tools[name]?.(dir) ?? []) sh(argv);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      times[name]?.push(ms);
      console.log(`run ${i + 1} ${name}: ${(ms / 1000).toFixed(2)} s`);
      clean(dir);
    }
  }
  const mb = image.layers.reduce((n, l) => n + l.size, 0) / 1e6;
  console.log(`image: ${image.layers.length} layers, ${mb.toFixed(0)} MB compressed, from docker-registry on loopback; storage on ${useTmpfs ? 'tmpfs' : 'disk'}`);
  const medians = Object.fromEntries(names.map((n) => [n, median(times[n] ?? [])]));
  for (const n of names) console.log(`${n.padEnd(14)} median ${((medians[n] ?? 0) / 1000).toFixed(2)} s`);
  const others = names.filter((n) => n !== 'berth');
  const best = others.reduce((a, b) => ((medians[a] ?? Infinity) <= (medians[b] ?? Infinity) ? a : b));
  for (const n of others) console.log(`ratio berth/${n}: ${((medians['berth'] ?? 0) / (medians[n] ?? 1)).toFixed(2)}`);
  console.log(`ratio berth/best (${best}): ${((medians['berth'] ?? 0) / (medians[best] ?? 1)).toFixed(2)}  (goal ≤ 0.80)`);
} catch (err) {
  console.error(`registry log (last lines):\n${registry.log().split('\n').slice(-20).join('\n')}`);
  throw err;
} finally {
  if (useTmpfs) unmountUnder(runsDir);
  await registry.stop();
}
