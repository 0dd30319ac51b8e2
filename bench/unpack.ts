/**
 * berth unpack against `umoci unpack`, in the same run on the same image:
 * ~200 MB in 5 gzip layers (many small files, a few large ones; see
 * unpack-image.ts), unpacked into a bundle by each tool in turn, RUNS times
 * (default 5). Prints each tool's median wall-clock time and the ratio.
 * Page cache and writeback are levelled before each run (sync, then the
 * previous bundle removed and synced again), outside the timing.
 *
 *   build/node bench/unpack.ts [RUNS] [--tmpfs]
 *
 * As root. BERTH_BENCH_DIR moves the work dir. --tmpfs writes the bundles
 * to a tmpfs mounted for the run (the image stays on disk): it takes the
 * disk's writeback out of the figures, which on a small VM disk varies
 * from run to run more than either tool does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { benchImage, BENCH_TAG } from './unpack-image.ts';

const args = process.argv.slice(2);
const useTmpfs = args.includes('--tmpfs');
const runs = Number(args.find((a) => /^[0-9]+$/.test(a)) ?? '5');
const base = process.env['BERTH_BENCH_DIR'] ?? '/var/tmp/berth-bench-unpack';
mkdirSync(base, { recursive: true });
const image = await benchImage(base);
const work = useTmpfs ? join(base, 'tmpfs') : base;
if (useTmpfs) {
  mkdirSync(work, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2g', 'berth-bench', work]);
  process.on('exit', () => spawnSync('umount', [work]));
}
const node = process.execPath;
const script = join(import.meta.dirname, 'unpack-berth.ts');

const tools: Record<string, (bundle: string) => string[]> = {
  berth: (bundle) => [node, script, image.dir, BENCH_TAG, bundle],
  umoci: (bundle) => ['umoci', 'unpack', '--image', `${image.dir}:${BENCH_TAG}`, bundle],
};

function timeOnce(argv: string[], bundle: string): number {
  rmSync(bundle, { recursive: true, force: true });
  execFileSync('sync');
  const [cmd = '', ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

const times: Record<string, number[]> = { berth: [], umoci: [] };
for (let i = 0; i < runs; i++) {
  // Alternate the order so neither tool always runs after the other's writeback.
  const order = i % 2 === 0 ? ['berth', 'umoci'] : ['umoci', 'berth'];
  for (const name of order) {
    const bundle = join(work, `bundle-${name}`);
    const ms = timeOnce(tools[name]?.(bundle) ?? [], bundle);
    times[name]?.push(ms);
    console.log(`run ${i + 1} ${name}: ${(ms / 1000).toFixed(2)} s`);
  }
}
for (const name of Object.keys(tools)) rmSync(join(work, `bundle-${name}`), { recursive: true, force: true });
const b = median(times['berth'] ?? []);
const u = median(times['umoci'] ?? []);
const mb = image.layers.reduce((n, l) => n + l.size, 0) / 1e6;
console.log(`image: ${image.layers.length} layers, ${mb.toFixed(0)} MB compressed; bundles on ${useTmpfs ? 'tmpfs' : 'disk'}`);
console.log(`berth unpack  median ${(b / 1000).toFixed(2)} s`);
console.log(`umoci unpack  median ${(u / 1000).toFixed(2)} s`);
console.log(`ratio berth/umoci: ${(b / u).toFixed(2)}`);
