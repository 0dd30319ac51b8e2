/**
 * The launcher (scripts/launcher.ts) of a bundled command, run on a tiny
 * bundle in a temp dir: the first run writes the code cache, the next is
 * served from it; after the bundle is rebuilt the old cache is not used
 * (V8 checks only the source's length: a same-length rebuild ran the old
 * code) and the next run writes a new one, which the run after accepts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { launcherSource } from '../../../scripts/launcher.ts';

/** A launcher for a bundle named demo in a temp dir of the test's, made with `options`. */
function demoLauncher(t: TestContext, options?: Parameters<typeof launcherSource>[3]): { dir: string; launcher: string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-launcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const launcher = join(dir, 'demo.cjs');
  writeFileSync(launcher, launcherSource(process.execPath, 'demo', join(dir, 'compile-cache'), options));
  chmodSync(launcher, 0o755);
  return { dir, launcher };
}

test('a code cache older than the rebuilt bundle is neither used (old code) nor kept', (t) => {
  const { dir, launcher } = demoLauncher(t);
  const cacheFile = join(dir, 'code-cache', `demo-${process.versions.v8}-${process.arch}.bin`);
  const bundle = (version: number): void =>
    writeFileSync(join(dir, 'demo.bundle.cjs'), `function answer() { return ${version}; }\nprocess.stdout.write(String(answer()));\n`);
  const run = (): { out: string; cache: string } => {
    const r = spawnSync(launcher, [], { encoding: 'utf8', env: { ...process.env, BERTH_TRACE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, cache: /code cache (\w+)/.exec(r.stderr)?.[1] ?? r.stderr };
  };

  bundle(1);
  assert.deepEqual(run(), { out: '1', cache: 'none' });
  assert.deepEqual(run(), { out: '1', cache: 'accepted' });
  const first = readFileSync(cacheFile);

  // The same length as before, so V8 alone would take the old cache and run the old function.
  bundle(2);
  assert.deepEqual(run(), { out: '2', cache: 'none' });
  assert.notDeepEqual(readFileSync(cacheFile), first);
  assert.deepEqual(run(), { out: '2', cache: 'accepted' });
});

test('BERTH_TRACE_MODULES=1 names the built-in modules and native addons the command loaded, and only those', (t) => {
  const { dir, launcher } = demoLauncher(t);
  // koffi is the addon the commands must not load at start-up: the trace has to see it when one does.
  const koffi = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'koffi');
  writeFileSync(join(dir, 'demo.bundle.cjs'), `if (process.argv[2] === 'ffi') require(${JSON.stringify(koffi)});\nrequire('node:zlib');\n`);
  const loaded = (...args: string[]): { builtins: string[]; addons: string[] } => {
    const r = spawnSync(launcher, args, { encoding: 'utf8', env: { ...process.env, BERTH_TRACE_MODULES: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const line = /^\[berth\] loaded (.*)$/m.exec(r.stderr);
    assert.ok(line, r.stderr);
    return JSON.parse(line[1]!) as { builtins: string[]; addons: string[] };
  };
  const plain = loaded();
  assert.ok(plain.builtins.includes('zlib'), plain.builtins.join(' '));
  assert.ok(!plain.builtins.includes('crypto'), plain.builtins.join(' '));
  assert.deepEqual(plain.addons, []);
  const ffi = loaded('ffi');
  assert.equal(ffi.addons.length, 1, ffi.addons.join(' '));
  assert.match(ffi.addons[0]!, /koffi[^/]*\/.*\.node$/);
});

test("with ownOnFirstRun, a command's first run writes its own cache, which its next runs take and nobody else does", (t) => {
  const { dir, launcher } = demoLauncher(t, { ownCache: ['ps', 'run'], valueFlags: ['--root'], ownOnFirstRun: true });
  writeFileSync(join(dir, 'demo.bundle.cjs'), 'const ps = () => "ps"; const run = () => "run";\nprocess.stdout.write(process.argv.includes("ps") ? ps() : run());\nif (process.env.DEMO_FAIL) process.exitCode = 3;\n');
  const cacheOf = (own: string): string => join(dir, 'code-cache', `demo${own ? `-${own}` : ''}-${process.versions.v8}-${process.arch}.bin`);
  const run = (...args: string[]): string => {
    const r = spawnSync(launcher, args, { encoding: 'utf8', env: { ...process.env, BERTH_TRACE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const m = /code cache (\w+)(?: \(\d+ bytes, ([^)]+)\))?/.exec(r.stderr);
    return `${m?.[1] ?? r.stderr}${m?.[2] ? ` ${m[2]}` : ''}`;
  };

  // Its help, or a failure, is not the command's path: neither writes the cache.
  assert.equal(run('ps', '--help'), 'none');
  assert.equal(existsSync(cacheOf('ps')), false);
  assert.equal(spawnSync(launcher, ['ps', 'fail'], { env: { ...process.env, DEMO_FAIL: '1' } }).status, 3);
  assert.equal(existsSync(cacheOf('ps')), false);
  assert.equal(run('--root', '/x', 'ps'), 'none');
  assert.ok(existsSync(cacheOf('ps')));
  assert.equal(existsSync(cacheOf('')), false);
  const written = statSync(cacheOf('ps')).mtimeMs;
  assert.equal(run('--root', '/x', 'ps'), `accepted ${basename(cacheOf('ps'))}`);
  assert.equal(statSync(cacheOf('ps')).mtimeMs, written, 'a cache that was taken is not written again');
  // run has none of its own yet: it does not borrow ps's, it writes its own.
  assert.equal(run('run'), 'none');
  assert.equal(run('run'), `accepted ${basename(cacheOf('run'))}`);
  // A word that is no command of the list shares the one cache.
  assert.equal(run('nonsense'), 'none');
  assert.ok(existsSync(cacheOf('')));
  assert.equal(existsSync(cacheOf('nonsense')), false);
});

test('the launched program does not keep the code cache\'s buffer alive (a resident daemon would hold it for good)', (t) => {
  const { dir, launcher } = demoLauncher(t);
  // After a full collection, what array buffers are left: without the launcher's reference, not the 8 MiB cache.
  writeFileSync(join(dir, 'demo.bundle.cjs'), `require('node:v8').setFlagsFromString('--expose-gc');\nrequire('node:vm').runInNewContext('gc')();\nprocess.stdout.write(String(process.memoryUsage().arrayBuffers));\n`);
  const cacheFile = join(dir, 'code-cache', `demo-${process.versions.v8}-${process.arch}.bin`);
  const run = (): { out: string; cache: string } => {
    const r = spawnSync(launcher, [], { encoding: 'utf8', env: { ...process.env, BERTH_TRACE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, cache: /code cache (\w+)/.exec(r.stderr)?.[1] ?? r.stderr };
  };
  run();
  // A cache of the bundle's length check but 8 MiB: V8 rejects it; the launcher read it all the same.
  writeFileSync(cacheFile, Buffer.concat([readFileSync(cacheFile), Buffer.alloc(8 << 20)]));
  const { out, cache } = run();
  assert.equal(cache, 'rejected');
  assert.ok(Number(out) < 4 << 20, `${out} bytes of array buffers left after a collection`);
});
