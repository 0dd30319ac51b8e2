import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { buildFixture, FIXED_MTIME, leftovers, makeTarball, NOTHING_LEFT, type BuildFixture } from './build-fixture.ts';
import type { ImageConfig } from '../../../src/oci/image-spec.ts';

const CONTAINERFILE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS builder
ARG VERSION=1.0
WORKDIR /src
COPY app/ ./app/
RUN echo "built $VERSION by $(id -u)" > /src/out.txt && \\
    chmod 604 /src/out.txt

FROM \${BASE}
ENV GREETING="hello world" \\
    APP_HOME=/srv/app
WORKDIR $APP_HOME
COPY --chown=nobody:nogroup hello.txt ./
COPY --chmod=755 app/main.sh /usr/local/bin/main
ADD archive.tar.gz /opt/
ADD plain.tar /opt/plain/
ADD notes.gz /opt/
COPY logs /logs/
COPY --from=builder /src/out.txt ./
RUN rm /etc/motd && echo "$GREETING" > greeting.txt && ln -s greeting.txt link.txt
USER nobody
EXPOSE 8080/tcp 53/udp
LABEL org.example.name="demo app"
VOLUME /data
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["id -u; id -g; pwd; echo $GREETING; cat out.txt; /usr/local/bin/main"]
`;

function writeContext(f: BuildFixture): void {
  f.write({ 'hello.txt': 'hello\n', 'app/data/x.txt': 'x\n', 'secret.txt': 'do not copy\n', 'logs/keep.log': 'keep\n', 'logs/drop.log': 'drop\n' });
  f.write({ 'app/main.sh': '#!/bin/sh\necho main ran\n' }, 0o700);
  f.write({ '.dockerignore': 'secret.txt\nlogs\n!logs/keep.log\n', Containerfile: CONTAINERFILE, 'notes.gz': 'not really gzip\n' });
  makeTarball(f.context, 'archive.tar.gz', { 'a/b.txt': 'from the archive\n' }, 'gzip');
  makeTarball(f.context, 'plain.tar', { 'p.txt': 'plain\n' }, 'none');
}

async function configOf(f: BuildFixture, name: string): Promise<ImageConfig> {
  return f.withStore((store) => store.readConfig(store.resolve(name)));
}

async function buildsAndRuns(t: TestContext, driver: 'overlay' | 'copy'): Promise<void> {
  const saved = process.env['BERTH_SNAPSHOTTER'];
  process.env['BERTH_SNAPSHOTTER'] = driver;
  t.after(() => {
    if (saved === undefined) delete process.env['BERTH_SNAPSHOTTER'];
    else process.env['BERTH_SNAPSHOTTER'] = saved;
  });
  const f = await buildFixture(t, { 'etc/motd': 'welcome\n' });
  writeContext(f);
  const out = await f.berthOk('build', '-t', 'demo:1', '--build-arg', 'VERSION=2.5', f.context);
  assert.match(out.stdout, /^[0-9a-f]{64}\n$/, 'stdout is the image ID alone');
  assert.match(out.stderr, /^STEP 1\/23: FROM \$BASE AS builder$/m);
  assert.match(out.stderr, /the "# syntax=docker\/dockerfile:1" directive is ignored/);
  assert.deepEqual(leftovers(f.root), NOTHING_LEFT);

  const config = await configOf(f, 'demo:1');
  const c = config.config ?? {};
  assert.ok(c.Env?.includes('GREETING=hello world'));
  assert.ok(c.Env?.includes('APP_HOME=/srv/app'));
  assert.ok(c.Env?.some((e) => e.startsWith('PATH=')));
  assert.equal(c.WorkingDir, '/srv/app');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.ExposedPorts, { '53/udp': {}, '8080/tcp': {} });
  assert.deepEqual(c.Labels, { 'org.example.name': 'demo app' });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGTERM');
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
  assert.equal(c.Cmd?.length, 1);
  const history = config.history ?? [];
  assert.equal(history.filter((h) => h.empty_layer !== true).length, config.rootfs.diff_ids.length, 'one history entry per layer');
  assert.ok(history.some((h) => h.created_by === '/bin/sh -c #(nop)  USER nobody' && h.empty_layer === true));
  assert.ok(history.some((h) => /^\/bin\/sh -c rm \/etc\/motd/.test(h.created_by ?? '')));

  // What a consumer of the image sees: `berth image unpack` gives a bundle...
  const bundle = join(f.dir, 'bundle');
  await f.berthOk('--quiet', 'image', 'unpack', 'demo:1', bundle);
  const rootfs = join(bundle, 'rootfs');
  const hello = lstatSync(join(rootfs, 'srv/app/hello.txt'));
  assert.deepEqual([hello.uid, hello.gid], [65534, 65534], '--chown names resolved in the image');
  assert.equal(Math.floor(hello.mtimeMs / 1000), FIXED_MTIME, 'COPY keeps the context mtime');
  assert.equal(lstatSync(join(rootfs, 'usr/local/bin/main')).mode & 0o7777, 0o755, '--chmod (the context file is 0700)');
  assert.equal(readFileSync(join(rootfs, 'opt/a/b.txt'), 'utf8'), 'from the archive\n', 'ADD extracts a gzip tarball');
  assert.deepEqual([lstatSync(join(rootfs, 'opt/a/b.txt')).uid, lstatSync(join(rootfs, 'opt/a/b.txt')).gid], [123, 456], 'archive owners kept');
  assert.equal(readFileSync(join(rootfs, 'opt/plain/p.txt'), 'utf8'), 'plain\n', 'ADD extracts a plain tarball');
  assert.equal(readFileSync(join(rootfs, 'opt/notes.gz'), 'utf8'), 'not really gzip\n', 'a file that is no archive is copied');
  assert.equal(readFileSync(join(rootfs, 'logs/keep.log'), 'utf8'), 'keep\n', 'a "!" exception re-includes');
  assert.equal(existsSync(join(rootfs, 'logs/drop.log')), false, '.dockerignore excludes');
  assert.equal(existsSync(join(rootfs, 'srv/app/secret.txt')), false);
  assert.equal(existsSync(join(rootfs, 'etc/motd')), false, "RUN's deletion is a whiteout");
  assert.equal(readlinkSync(join(rootfs, 'srv/app/link.txt')), 'greeting.txt');
  const built = lstatSync(join(rootfs, 'srv/app/out.txt'));
  assert.equal(built.mode & 0o777, 0o604, 'COPY --from keeps modes');
  assert.equal(readFileSync(join(rootfs, 'srv/app/out.txt'), 'utf8'), 'built 2.5 by 0\n', '--build-arg reached RUN, which ran as root');

  // ...that berth-runtime runs as the image says (entrypoint + cmd, user, cwd, env).
  const run = await f.runtime.run(['run', '--bundle', bundle, f.runtime.track(`build-test-${process.pid}`)]);
  assert.equal(run.stderr, '');
  assert.equal(run.stdout, '65534\n65534\n/srv/app\nhello world\nbuilt 2.5 by 0\nmain ran\n');
  assert.equal(run.code, 0);
}

describe('berth build (root)', () => {
  test('a multi-stage build with RUN, COPY, ADD, ENV, WORKDIR, USER and COPY --from runs as built (overlay snapshots)', (t) => buildsAndRuns(t, 'overlay'));
  test('the same with the copying snapshotter', (t) => buildsAndRuns(t, 'copy'));

  test('a second build comes wholly from the cache (no RUN runs, same image ID); a changed COPY input rebuilds from that step on', async (t) => {
    const f = await buildFixture(t);
    f.write({
      'a.txt': 'one\n',
      'b.txt': 'two\n',
      Containerfile: 'FROM busybox\nRUN echo first >> /runs\nCOPY a.txt /a.txt\nRUN echo second >> /runs\nCOPY b.txt /b.txt\nRUN cat /a.txt /b.txt > /both\nCMD ["cat", "/both"]\n',
    });
    const { buildImage } = await import('../../../src/image/build/builder.ts');
    const build = (noCache = false): Promise<{ id: string; runs: number; cached: number; steps: number; started: number }> =>
      f.withStore(async (store) => {
        let started = 0;
        const text = readFileSync(join(f.context, 'Containerfile'), 'utf8');
        const r = await buildImage(store, {
          containerfile: { text, name: 'Containerfile' },
          context: f.context,
          tags: ['cached'],
          noCache,
          onEvent: (e) => {
            if (e.type === 'run') started++;
          },
        });
        return { id: r.image.id, runs: r.runs, cached: r.cached, steps: r.steps, started };
      });
    const first = await build();
    assert.deepEqual([first.runs, first.started, first.cached], [3, 3, 0]);
    const second = await build();
    assert.deepEqual([second.runs, second.started, second.cached, second.steps], [0, 0, 6, 7], 'every step after FROM from the cache, no container started');
    assert.equal(second.id, first.id, 'the same image ID');
    const cli = await f.berthOk('build', '-t', 'cached', f.context);
    assert.equal((cli.stderr.match(/^--> Using cache /gm) ?? []).length, 6, 'the command line says so for every step');
    assert.equal(cli.stdout.trim(), first.id.slice(7));

    f.write({ 'b.txt': 'changed\n' });
    const third = await build();
    assert.deepEqual([third.cached, third.runs], [3, 1], 'RUN, COPY a, RUN come from the cache; COPY b, RUN and CMD do not');
    assert.notEqual(third.id, first.id);
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'cached', bundle);
    assert.equal(readFileSync(join(bundle, 'rootfs', 'both'), 'utf8'), 'one\nchanged\n');
    assert.equal(readFileSync(join(bundle, 'rootfs', 'runs'), 'utf8'), 'first\nsecond\n');

    const again = await build(true);
    assert.equal(again.runs, 3, '--no-cache runs every RUN');
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('a failing RUN stops the build with its exit status and line, leaving no snapshot, mount or container', async (t) => {
    const f = await buildFixture(t);
    f.write({ Containerfile: 'FROM busybox\nRUN echo ok > /ok\nRUN echo to stderr >&2; \\\n    exit 7\nRUN echo never > /never\n' });
    const r = await f.berth('build', '-t', 'broken', f.context);
    assert.equal(r.code, 7, "the build exits with the RUN's status");
    assert.match(r.stderr, /^berth: Containerfile:3: RUN: "\/bin\/sh -c echo to stderr >&2; {5}exit 7" exited with status 7$/m);
    assert.match(r.stderr, /^to stderr$/m, "the RUN's output reached the user");
    assert.doesNotMatch(r.stderr, /STEP 4\/4/);
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
    assert.equal(await f.withStore((s) => s.tryResolve('broken')), undefined, 'no image was recorded');
  });

  test('errors name the Containerfile, the line and the instruction', async (t) => {
    const f = await buildFixture(t);
    f.write({ 'here.txt': 'x', 'secret.txt': 's', '.dockerignore': 'secret.txt\n' });
    const cases: [string, RegExp][] = [
      ['FROM busybox\n\nCOPY missing.txt /x', /^berth: Containerfile:3: COPY: source "missing.txt" not found in the context$/m],
      ['FROM busybox\nCOPY secret.txt /x', /Containerfile:2: COPY: source "secret.txt" not found in the context/],
      ['FROM busybox\nCOPY *.md /x/', /Containerfile:2: COPY: source "\*\.md" matches nothing in the context/],
      ['FROM busybox\nCOPY ../etc/passwd /x', /Containerfile:2: COPY: source "\.\.\/etc\/passwd" is outside the context/],
      ['FROM busybox\nADD https://example.invalid/x.tgz /x', /Containerfile:2: ADD: remote source "https:\/\/example\.invalid\/x\.tgz" cannot be fetched: berth builds offline/],
      ['FROM busybox\nCOPY here.txt secret.txt /x', /Containerfile:2: COPY: source "secret\.txt" not found/],
      ['FROM busybox\nCOPY here.txt here.txt /x', /Containerfile:2: COPY: when copying more than one source file, the destination must be a directory and end with a \//],
      ['FROM busybox\nCOPY --chown=nosuchuser here.txt /x', /Containerfile:2: COPY: --chown=nosuchuser: no user "nosuchuser" in the image's \/etc\/passwd/],
      ['FROM busybox\nUSER nosuchuser\nRUN true', /Containerfile:3: RUN: .*no user "nosuchuser"/],
      ['FROM nosuchimage\nRUN true', /Containerfile:1: FROM: image "nosuchimage": no registry given/],
      ['FROM busybox\nRUN --network=host true', /Containerfile:2: RUN: --network=host: builds are offline/],
      ['FROM busybox AS a\nFROM a\nCOPY --from=b /x /y', /Containerfile:3: COPY: image "b": no registry given/],
      ['FROM --platform=linux/s390x-nope busybox', /Containerfile:1: FROM: --platform=linux\/s390x-nope: only the host's platform/],
      ['FROM busybox\nFROBNICATE', /^berth: Containerfile:2: unknown instruction: FROBNICATE$/m],
    ];
    for (const [text, want] of cases) {
      writeFileSync(join(f.context, 'Containerfile'), text);
      const r = await f.berth('build', f.context);
      assert.notEqual(r.code, 0, text);
      assert.match(r.stderr, want, text);
    }
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });

  test('--target builds only the stages that stage needs; unused build args are warned about', async (t) => {
    const f = await buildFixture(t);
    f.write({ Containerfile: 'FROM busybox AS one\nRUN echo one > /one\nFROM busybox AS two\nRUN exit 9\nFROM one AS three\nRUN cat /one > /three\n' });
    const r = await f.berthOk('build', '--target', 'three', '-t', 'three', '--build-arg', 'UNUSED=1', f.context);
    assert.doesNotMatch(r.stderr, /exit 9/, 'stage two is not built');
    assert.match(r.stderr, /WARNING: one or more build args were not consumed: UNUSED/);
    const bundle = join(f.dir, 'bundle');
    await f.berthOk('--quiet', 'image', 'unpack', 'three', bundle);
    assert.equal(readFileSync(join(bundle, 'rootfs', 'three'), 'utf8'), 'one\n');
    assert.match((await f.berth('build', '--target', 'nope', f.context)).stderr, /--target nope: no such stage/);
  });
});
