import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { withRegistry } from '../../helpers/registry.ts';
import { berthOk } from '../../helpers/registry-cli.ts';
import { buildFixture, leftovers, NOTHING_LEFT } from './build-fixture.ts';

describe('berth build with a registry (root)', () => {
  test('a built image is pushed; a build in an empty store pulls it for FROM; its result pushes and pulls back unchanged and runs', async (t) => {
    const reg = await withRegistry(t);
    const f = await buildFixture(t);
    f.write({ Containerfile: 'FROM busybox\nRUN echo "base layer" > /base.txt\nENV FROM_BASE=yes\n' });
    const base = `${reg.host}/lib/base:1`;
    await f.berthOk('--quiet', 'build', '-t', base, f.context);
    await f.berthOk('--quiet', 'push', base);

    // A second store knows nothing: FROM pulls the base through berth's pull.
    const other = join(f.dir, 'other-root');
    f.write({ 'app.txt': 'app\n', Containerfile: `FROM ${base}\nCOPY app.txt /app.txt\nCMD ["sh", "-c", "cat /base.txt /app.txt; echo $FROM_BASE"]\n` });
    const built = await berthOk('--root', other, 'build', '-t', `${reg.host}/app/final:1`, f.context);
    assert.match(built.stderr, new RegExp(`^Pulling ${base.replace(/[.]/g, '\\.')}\\.\\.\\.$`, 'm'));
    const id = built.stdout.trim();
    await berthOk('--root', other, '--quiet', 'push', `${reg.host}/app/final:1`);
    assert.deepEqual(leftovers(other), NOTHING_LEFT);

    const third = join(f.dir, 'third-root');
    await berthOk('--root', third, '--quiet', 'pull', `${reg.host}/app/final:1`);
    const images = JSON.parse((await berthOk('--root', third, 'images', '--json')).stdout) as { Id: string }[];
    assert.equal(images[0]?.Id.replace(/^sha256:/, ''), id, 'the pulled image has the ID the build printed');
    const bundle = join(f.dir, 'bundle');
    await berthOk('--root', third, '--quiet', 'image', 'unpack', `${reg.host}/app/final:1`, bundle);
    assert.equal(readFileSync(join(bundle, 'rootfs', 'app.txt'), 'utf8'), 'app\n');
    const r = await f.runtime.run(['run', '--bundle', bundle, f.runtime.track(`build-reg-${process.pid}`)]);
    assert.equal(r.stdout, 'base layer\napp\nyes\n');
  });
});
