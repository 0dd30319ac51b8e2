/**
 * What the bundled commands load to start (BERTH_TRACE_MODULES=1, see
 * scripts/launcher.ts), so a stray static import cannot make every command
 * pay again for modules it never uses: berth's help and version load no
 * network, store (SQLite, crypto), process or FFI module; berth-runtime's
 * `state` not even the stream machinery; neither loads a native addon.
 * `images` opens the store, so there the same trace must show SQLite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../helpers/cleanup.ts';

const build = join(import.meta.dirname, '..', '..', '..', 'build');

function loaded(command: string, args: string[]): { builtins: string[]; addons: string[] } {
  const r = spawnSync(join(build, `${command}.cjs`), args, { encoding: 'utf8', env: { ...process.env, BERTH_TRACE_MODULES: '1' } });
  const line = /^\[berth\] loaded (.*)$/m.exec(r.stderr);
  assert.ok(line, `${command} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(line[1]!) as { builtins: string[]; addons: string[] };
}

/** The store's (SQLite, hashing), processes' and threads' modules. */
const HEAVY = ['crypto', 'sqlite', 'child_process', 'worker_threads', 'readline', 'zlib'];

for (const args of [['--help'], ['--version'], ['container', 'ls', '--help']]) {
  test(`berth ${args.join(' ')} loads no network, store, process or FFI module`, () => {
    const { builtins, addons } = loaded('berth', args);
    assert.deepEqual(builtins.filter((b) => [...HEAVY, 'net', 'http'].includes(b)), []);
    assert.deepEqual(addons, []);
  });
}

test("berth run --help loads run's own parsers, but no store, process or FFI module", () => {
  const { builtins, addons } = loaded('berth', ['run', '--help']);
  assert.deepEqual(builtins.filter((b) => HEAVY.includes(b)), []);
  assert.deepEqual(addons, []);
});

test('berth images opens the store: the trace shows SQLite there, and still no addon', (t) => {
  const { builtins, addons } = loaded('berth', ['--root', join(tempDir(t), 'store'), 'images']);
  assert.ok(builtins.includes('sqlite'), builtins.join(' '));
  assert.deepEqual(addons, []);
});

test('berth-runtime state loads neither the stream machinery, child_process nor an addon', (t) => {
  const { builtins, addons } = loaded('berth-runtime', ['--root', tempDir(t), 'state', 'nothing-here']);
  assert.deepEqual(builtins.filter((b) => ['stream', 'net', ...HEAVY].includes(b)), []);
  assert.deepEqual(addons, []);
});
