import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { waitFor } from '../../helpers/runtime.ts';
import { buildFixture, leftovers, makeTarball, NOTHING_LEFT, type BuildFixture } from './build-fixture.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

/** True while /proc shows the process and it is not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function build(f: BuildFixture, text: string, options: { signal?: AbortSignal; onRun?: () => void } = {}): Promise<string> {
  const { buildImage } = await import('../../../src/image/build/builder.ts');
  return f.withStore(async (store) => {
    const r = await buildImage(store, {
      containerfile: { text, name: 'Containerfile' },
      context: f.context,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onEvent: (e) => {
        if (e.type === 'run') options.onRun?.();
      },
    });
    return r.image.id;
  });
}

function withDriver(t: TestContext, driver: 'overlay' | 'copy'): void {
  const saved = process.env['BERTH_SNAPSHOTTER'];
  process.env['BERTH_SNAPSHOTTER'] = driver;
  t.after(() => {
    if (saved === undefined) delete process.env['BERTH_SNAPSHOTTER'];
    else process.env['BERTH_SNAPSHOTTER'] = saved;
  });
}

describe('berth build lifecycle (root)', () => {
  test('an interrupted build kills its RUN container and leaves no snapshot, mount or container', async (t) => {
    const f = await buildFixture(t);
    const abort = new AbortController();
    await assert.rejects(
      build(f, 'FROM busybox\nRUN echo started; sleep 600\n', { signal: abort.signal, onRun: () => abort.abort() }),
      (err: unknown) => err instanceof Error && err.name === 'AbortError',
    );
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('what a killed build left (its container, mount and step snapshot) is cleaned by the next build', async (t) => {
    const f = await buildFixture(t);
    f.write({ Containerfile: 'FROM busybox\nRUN sleep 600\n' });
    const child = spawn(join(REPO, 'build', 'node'), [join(REPO, 'src/cli/berth/main.ts'), '--root', f.root, 'build', f.context], { stdio: 'ignore' });
    t.after(() => child.kill('SIGKILL'));
    const runtimeRoot = join(f.root, 'build', 'runtime');
    const id = await waitFor(
      'the RUN container',
      () => {
        const ids = existsSync(runtimeRoot) ? readdirSync(runtimeRoot) : [];
        const state = ids[0] === undefined ? undefined : join(runtimeRoot, ids[0], 'state.json');
        if (state === undefined || !existsSync(state)) return undefined;
        return (JSON.parse(readFileSync(state, 'utf8')) as { status: string }).status === 'running' ? ids[0] : undefined;
      },
      30_000,
    );
    const pid = (JSON.parse(readFileSync(join(runtimeRoot, id, 'state.json'), 'utf8')) as { pid: number }).pid;
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const left = leftovers(f.root);
    assert.equal(left.containers.length, 1, 'the killed build left its container');
    assert.ok(left.mounts.length > 0 && left.active.length > 0, 'and its mount and snapshot');
    assert.ok(running(pid));

    await build(f, 'FROM busybox\nRUN true\n');
    assert.deepEqual({ ...leftovers(f.root), cgroups: [] }, NOTHING_LEFT);
    await waitFor('the container process to end', () => (running(pid) ? undefined : true));
  });

  test('the same COPY-only build twice with --no-cache gives the same layers (and with --timestamp the same image); both snapshotters agree', async (t) => {
    const diffIds = async (driver: 'overlay' | 'copy', tt: TestContext): Promise<{ ids: string[]; layers: string[] }> => {
      withDriver(tt, driver);
      const f = await buildFixture(tt);
      f.write({ 'a.txt': 'a\n', 'dir/b.txt': 'b\n', 'dir/sub/c.txt': 'c\n' });
      makeTarball(f.context, 'arch.tar.gz', { 'x/y.txt': 'y\n' }, 'gzip');
      f.write({ Containerfile: 'FROM busybox\nWORKDIR /app\nCOPY a.txt .\nCOPY dir/ ./dir/\nADD arch.tar.gz /opt/\nCOPY --chown=nobody --chmod=640 a.txt /owned\nENV X=1\nCMD ["cat", "/app/a.txt"]\n' });
      f.fixTimes();
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) ids.push((await f.berthOk('build', '--no-cache', '--timestamp', '1700000000', '-t', 'repro', f.context)).stdout.trim());
      const config = await f.withStore((s) => s.readConfig(s.resolve('repro')));
      return { ids, layers: config.rootfs.diff_ids.slice(1) };
    };
    const overlay = await diffIds('overlay', t);
    assert.equal(overlay.ids[0], overlay.ids[1], 'same image ID from two --no-cache builds');
    assert.equal(overlay.layers.length, 5);
    const copy = await diffIds('copy', t);
    assert.equal(copy.ids[0], copy.ids[1]);
    assert.deepEqual(copy.layers, overlay.layers, 'the copying snapshotter writes the very same layers');
  });
});
