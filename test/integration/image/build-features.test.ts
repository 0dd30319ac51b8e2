import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { TarReader } from '../../../src/image/tar/reader.ts';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCommand } from '../../helpers/runtime.ts';
import { buildFixture, leftovers, makeTarball, NOTHING_LEFT, type BuildFixture } from './build-fixture.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

/** Entry names of an uncompressed layer, read with berth's tar reader. */
function listLayer(tar: Buffer): string[] {
  const names: string[] = [];
  const reader = new TarReader({ entry: (e) => names.push(e.path), data: () => undefined, entryEnd: () => undefined }, 'test');
  reader.push(tar);
  reader.end();
  return names;
}

async function unpacked(f: BuildFixture, image: string, path: string): Promise<string> {
  const bundle = join(f.dir, `bundle-${image.replace(/[^a-z0-9]/g, '-')}`);
  if (!existsSync(bundle)) await f.berthOk('--quiet', 'image', 'unpack', image, bundle);
  return readFileSync(join(bundle, 'rootfs', path), 'utf8');
}

describe('berth build instructions (root)', () => {
  test('RUN: exec form, SHELL, heredocs (script and redirection), ARG values in the environment and in the history', async (t) => {
    const f = await buildFixture(t);
    f.write({
      Containerfile: [
        'FROM busybox',
        'ARG WHO=arg-value',
        'ENV OVER=from-env',
        'ARG OVER=from-arg',
        'RUN ["/bin/sh", "-c", "echo exec $WHO $OVER > /exec.txt"]',
        'SHELL ["/bin/sh", "-e", "-c"]',
        'RUN echo shell $0 > /shell.txt',
        'RUN <<EOF',
        'echo line one > /heredoc.txt',
        'echo line two >> /heredoc.txt',
        'EOF',
        'RUN cat <<-END > /fed.txt',
        '\tfed through the shell',
        '\tEND',
        '',
      ].join('\n'),
    });
    await f.berthOk('build', '-t', 'runs', f.context);
    assert.equal(await unpacked(f, 'runs', 'exec.txt'), 'exec arg-value from-env\n', 'ARGs reach RUN; ENV wins over ARG');
    assert.equal(await unpacked(f, 'runs', 'shell.txt'), 'shell /bin/sh\n');
    assert.equal(await unpacked(f, 'runs', 'heredoc.txt'), 'line one\nline two\n');
    assert.equal(await unpacked(f, 'runs', 'fed.txt'), 'fed through the shell\n');
    const history = await f.withStore(async (s) => (await s.readConfig(s.resolve('runs'))).history ?? []);
    assert.ok(history.some((h) => h.created_by === '|2 WHO=arg-value OVER=from-arg /bin/sh -c echo exec $WHO $OVER > /exec.txt'), 'as Docker: the ARG values lead the RUN history');
  });

  test('ADD extracts a zstd tarball; COPY --from an image; ONBUILD triggers run in the child build', async (t) => {
    const f = await buildFixture(t);
    makeTarball(f.context, 'z.tar.zst', { 'z/inside.txt': 'zstd\n' }, 'zstd');
    f.write({ Containerfile: 'FROM busybox\nONBUILD RUN echo triggered > /onbuild.txt\nLABEL parent=yes\n' });
    await f.berthOk('--quiet', 'build', '-t', 'parent', f.context);
    f.write({ Containerfile: 'FROM parent\nADD z.tar.zst /x/\nCOPY --from=busybox /etc/passwd /from-image-passwd\n' });
    const r = await f.berthOk('build', '-t', 'child', f.context);
    assert.match(r.stderr, /running the base image's ONBUILD trigger: RUN echo triggered > \/onbuild\.txt/);
    assert.equal(await unpacked(f, 'child', 'onbuild.txt'), 'triggered\n');
    assert.equal(await unpacked(f, 'child', 'x/z/inside.txt'), 'zstd\n');
    assert.match(await unpacked(f, 'child', 'from-image-passwd'), /^root:x:0:0/);
    const child = await f.withStore(async (s) => (await s.readConfig(s.resolve('child'))).config ?? {});
    assert.equal(child.OnBuild, undefined, 'triggers are not passed on');
    assert.deepEqual(child.Labels, { parent: 'yes' });
  });

  for (const driver of ['overlay', 'copy'] as const) {
    test(`a directory removed and made again in one RUN hides everything it held before (${driver} snapshots)`, async (t) => {
      const saved = process.env['BERTH_SNAPSHOTTER'];
      process.env['BERTH_SNAPSHOTTER'] = driver;
      t.after(() => {
        if (saved === undefined) delete process.env['BERTH_SNAPSHOTTER'];
        else process.env['BERTH_SNAPSHOTTER'] = saved;
      });
      const f = await buildFixture(t, { 'etc/motd': 'old\n', 'etc/sub/deep': 'old\n' });
      f.write({ Containerfile: 'FROM busybox\nRUN rm -rf /etc && mkdir /etc && echo new > /etc/only\n' });
      await f.berthOk('--quiet', 'build', '-t', 'opaque', f.context);
      const bundle = join(f.dir, 'bundle');
      await f.berthOk('--quiet', 'image', 'unpack', 'opaque', bundle);
      assert.deepEqual(readdirSync(join(bundle, 'rootfs', 'etc')), ['only']);
      const entries = await f.withStore(async (s) => {
        const img = s.resolve('opaque');
        const top = img.layers[img.layers.length - 1];
        return top === undefined ? [] : listLayer(gunzipSync(await s.content.readBlobBytes(top.digest)));
      });
      if (driver === 'overlay') assert.ok(entries.includes('etc/.wh..wh..opq'), `an opaque directory: ${entries.join(' ')}`);
      else assert.ok(entries.includes('etc/.wh.motd') && entries.includes('etc/.wh.sub'), `whiteouts for what went: ${entries.join(' ')}`);
    });
  }

  test('-f names a Containerfile outside the context (or - for stdin); --iidfile; image build is the same verb', async (t) => {
    const f = await buildFixture(t);
    const elsewhere = join(f.dir, 'files');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'Custom.file'), 'FROM busybox\nCOPY a.txt /a.txt\nRUN false\n');
    f.write({ 'a.txt': 'a\n' });
    const failed = await f.berth('build', '-f', join(elsewhere, 'Custom.file'), f.context);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, new RegExp(`^berth: ${join(elsewhere, 'Custom.file').replace(/[.]/g, '\\.')}:3: RUN: "/bin/sh -c false" exited with status 1$`, 'm'), 'errors name the file as given');

    writeFileSync(join(elsewhere, 'Other.file'), 'FROM busybox\nCOPY a.txt /a.txt\n');
    const iid = join(f.dir, 'iid');
    const ok = await f.berthOk('image', 'build', '--iidfile', iid, '-f', join(elsewhere, 'Other.file'), '-t', 'viaimage', f.context);
    assert.equal(readFileSync(iid, 'utf8'), `sha256:${ok.stdout.trim()}`);

    const piped = await runCommand(join(REPO, 'build', 'node'), [join(REPO, 'src/cli/berth/main.ts'), '--root', f.root, 'build', '-q', '-f', '-', '-t', 'piped', f.context], {
      input: 'FROM busybox\nCOPY a.txt /piped.txt\n',
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^[0-9a-f]{64}\n$/, '--quiet prints the ID alone');
    assert.equal(piped.stderr, '');
    assert.equal(await unpacked(f, 'piped', 'piped.txt'), 'a\n');
    assert.deepEqual(leftovers(f.root), NOTHING_LEFT);
  });
});
