import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RegistryClient } from '../../../src/image/registry/client.ts';
import { withRegistry } from '../../helpers/registry.ts';
import { withTokenServer } from '../../helpers/registry-token.ts';
import { berth, berthOk } from '../../helpers/registry-cli.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

async function importSmall(dir: string, root: string, name: string): Promise<string> {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc', 'id'), `${name}\n`);
  return (await berthOk('--root', root, '--quiet', 'import', tree, name)).stdout.trim();
}

describe('push and pull through the command line', () => {
  test('push keeps the digest, records it, and a chunked push gives the same manifest', async (t) => {
    const dir = tempDir(t);
    const reg = await withRegistry(t);
    const root = join(dir, 'root');
    const id = await importSmall(dir, root, 'app:v1');
    const digestFile = join(dir, 'digest');
    await berthOk('--root', root, '--quiet', 'push', '--digestfile', digestFile, 'app:v1', `${reg.host}/team/app:v1`);
    const pushed = readFileSync(digestFile, 'utf8');
    assert.equal((await new RegistryClient({ registry: reg.host }).getManifest('team/app', 'v1')).digest, pushed);
    const [img] = JSON.parse((await berthOk('--root', root, 'images', '--json')).stdout) as { RepoDigests: string[] }[];
    assert.deepEqual(img?.RepoDigests, [`${reg.host}/team/app@${pushed}`]);

    await berthOk('--root', root, '--quiet', 'push', '--upload-chunk-size', '100', 'app:v1', `docker://${reg.host}/chunked/app:v1`);
    assert.equal((await new RegistryClient({ registry: reg.host }).getManifest('chunked/app', 'v1')).digest, pushed);

    const other = join(dir, 'other');
    await berthOk('--root', other, '--quiet', 'pull', `${reg.host}/chunked/app:v1`);
    assert.equal((JSON.parse((await berthOk('--root', other, 'images', '--json')).stdout) as { Id: string }[])[0]?.Id, id);
  });

  test('push without a destination goes to the registry the name carries', async (t) => {
    const dir = tempDir(t);
    const reg = await withRegistry(t);
    const root = join(dir, 'root');
    await importSmall(dir, root, `${reg.host}/self/named:v2`);
    await berthOk('--root', root, '--quiet', 'push', `${reg.host}/self/named:v2`);
    assert.deepEqual(await new RegistryClient({ registry: reg.host }).listTags('self/named'), ['v2']);
  });
});

describe('login, logout and pushes with credentials', () => {
  test('htpasswd: login checks the password before writing it; push and pull use the auth file', async (t) => {
    const dir = tempDir(t);
    const reg = await withRegistry(t, { htpasswd: { users: { alice: 'wonderland' } } });
    const root = join(dir, 'root');
    const authfile = join(dir, 'auth', 'config.json');
    await importSmall(dir, root, 'secret:v1');

    const denied = await berth('--root', root, '--quiet', 'push', 'secret:v1', `${reg.host}/secret:v1`);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /registry answered 401/);

    const wrong = await berth('--authfile', authfile, 'login', '-u', 'alice', '-p', 'nope', reg.host);
    assert.equal(wrong.code, 1);
    assert.equal(existsSync(authfile), false, 'a refused login writes nothing');

    assert.equal((await berthOk('--authfile', authfile, 'login', '-u', 'alice', '-p', 'wonderland', reg.host)).stdout, 'Login Succeeded!\n');
    const saved = JSON.parse(readFileSync(authfile, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[reg.host]?.auth ?? '', 'base64').toString(), 'alice:wonderland');

    await berthOk('--root', root, '--authfile', authfile, '--quiet', 'push', 'secret:v1', `${reg.host}/secret:v1`);
    await berthOk('--root', join(dir, 'other'), '--authfile', authfile, '--quiet', 'pull', `${reg.host}/secret:v1`);

    await berthOk('--authfile', authfile, 'logout', reg.host);
    const after = await berth('--root', join(dir, 'third'), '--authfile', authfile, '--quiet', 'pull', `${reg.host}/secret:v1`);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /401/);
  });

  test('token server: --creds push, anonymous pull of a public repository, remote inspect', async (t) => {
    const dir = tempDir(t);
    const tokens = await withTokenServer(t, { users: { ci: 'builder' }, anonymousPull: ['public/tool'] });
    const reg = await withRegistry(t, { token: tokens });
    const root = join(dir, 'root');
    const id = await importSmall(dir, root, 'tool:v1');
    await berthOk('--root', root, '--creds', 'ci:builder', '--quiet', 'push', 'tool:v1', `${reg.host}/public/tool:v1`);
    const emptyAuth = join(dir, 'none.json');
    const remote = JSON.parse((await berthOk('--authfile', emptyAuth, 'image', 'inspect', '--remote', `${reg.host}/public/tool:v1`)).stdout) as { Name: string };
    assert.equal(remote.Name, `${reg.host}/public/tool`);
    const other = join(dir, 'other');
    await berthOk('--root', other, '--authfile', emptyAuth, '--quiet', 'pull', `${reg.host}/public/tool:v1`);
    assert.equal((JSON.parse((await berthOk('--root', other, 'images', '--json')).stdout) as { Id: string }[])[0]?.Id, id);
    assert.ok(tokens.requests.some((r) => r.user === undefined && r.scopes.includes('repository:public/tool:pull')));
    const denied = await berth('--root', root, '--authfile', emptyAuth, '--quiet', 'push', 'tool:v1', `${reg.host}/public/tool:v2`);
    assert.equal(denied.code, 1);
  });
});
