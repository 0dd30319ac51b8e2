/**
 * Cross-tool checks of what berth writes and reads (root): skopeo inspects
 * and copies what berth pushes, podman pulls and runs it, umoci unpacks the
 * OCI layouts berth writes, and berth pulls what skopeo pushes with the
 * digests skopeo reports.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test, type TestContext } from 'node:test';
import { withRegistry } from '../helpers/registry.ts';
import { berthOk } from '../helpers/registry-cli.ts';
import { tempDir } from '../helpers/registry-tmp.ts';
import { tool } from '../helpers/tool.ts';

const run = promisify(execFile);


/** A busybox image in a fresh store, imported from Debian's busybox-static. */
async function busyboxImage(dir: string, root: string, name: string): Promise<void> {
  const tree = join(dir, 'busybox-tree');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  mkdirSync(join(tree, 'etc'));
  copyFileSync('/bin/busybox', join(tree, 'bin', 'busybox'));
  for (const applet of ['sh', 'echo', 'cat', 'ls']) symlinkSync('busybox', join(tree, 'bin', applet));
  await berthOk('--root', root, '--quiet', 'import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/bin', tree, name);
}

/**
 * podman with its own storage and run roots, removed when the test ends:
 * containers and images first (podman recreates its roots when asked), then
 * leftover mounts, then the files. Its own directory, so no other cleanup
 * removes it first.
 */
function podman(t: TestContext): (...args: string[]) => Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-podman-'));
  const root = join(dir, 'root');
  const runroot = join(dir, 'run');
  const base = ['--root', root, '--runroot', runroot, '--cgroup-manager=cgroupfs', '--events-backend=file', '--storage-driver=vfs'];
  t.after(async () => {
    await run('podman', [...base, 'rm', '--all', '--force']).catch(() => undefined);
    await run('podman', [...base, 'rmi', '--all', '--force']).catch(() => undefined);
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
      const target = line.split(' ')[1];
      if (target?.startsWith(dir) === true) await run('umount', ['-l', target]).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return (...args) => tool('podman', ...base, ...args);
}

describe('berth and the reference tools read each other (root)', () => {
  test('skopeo and podman take what berth pushes; podman runs it', async (t) => {
    const dir = tempDir(t);
    const reg = await withRegistry(t);
    const root = join(dir, 'root');
    await busyboxImage(dir, root, 'busybox:v1');
    const digestFile = join(dir, 'digest');
    await berthOk('--root', root, '--quiet', 'push', '--digestfile', digestFile, 'busybox:v1', `${reg.host}/bb:v1`);
    const pushed = readFileSync(digestFile, 'utf8');

    const inspected = JSON.parse(await tool('skopeo', 'inspect', '--tls-verify=false', `docker://${reg.host}/bb:v1`)) as { Digest: string; Layers: string[]; Env: string[] };
    assert.equal(inspected.Digest, pushed);
    const [img] = JSON.parse((await berthOk('--root', root, 'image', 'inspect', 'busybox:v1')).stdout) as { Layers: { Digest: string }[] }[];
    assert.deepEqual(inspected.Layers, img?.Layers.map((l) => l.Digest));
    assert.deepEqual(inspected.Env, ['PATH=/bin']);

    const p = podman(t);
    // No CAP_SYS_RESOURCE here: runc may only lower rlimits, so ask for low ones.
    const out = await p('run', '--rm', '--tls-verify=false', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network=none', `${reg.host}/bb:v1`, 'echo', 'hi from podman');
    assert.equal(out, 'hi from podman\n');
    const podmanDigest = (await p('image', 'inspect', '--format', '{{.Digest}}', `${reg.host}/bb:v1`)).trim();
    assert.equal(podmanDigest, pushed);
  });

  test('berth pulls what skopeo pushes (Docker schema 2), with the digests skopeo reports', async (t) => {
    const dir = tempDir(t);
    const reg = await withRegistry(t);
    const root = join(dir, 'root');
    await busyboxImage(dir, root, 'busybox:v1');
    await berthOk('--root', root, '--quiet', 'push', 'busybox:v1', `${reg.host}/bb:v1`);
    await tool('skopeo', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'v2s2', `docker://${reg.host}/bb:v1`, `docker://${reg.host}/from-skopeo:v2`);
    const sk = JSON.parse(await tool('skopeo', 'inspect', '--tls-verify=false', `docker://${reg.host}/from-skopeo:v2`)) as { Digest: string; Layers: string[] };
    const raw = JSON.parse(await tool('skopeo', 'inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/from-skopeo:v2`)) as { mediaType: string };
    assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');

    const other = join(dir, 'other');
    await berthOk('--root', other, '--quiet', 'pull', `${reg.host}/from-skopeo:v2`);
    const [img] = JSON.parse((await berthOk('--root', other, 'images', '--json')).stdout) as { ManifestDigest: string; RepoDigests: string[] }[];
    assert.equal(img?.ManifestDigest, sk.Digest);
    assert.deepEqual(img?.RepoDigests, [`${reg.host}/from-skopeo@${sk.Digest}`]);
    const [detail] = JSON.parse((await berthOk('--root', other, 'image', 'inspect', `${reg.host}/from-skopeo:v2`)).stdout) as { Layers: { Digest: string }[]; ManifestType: string }[];
    assert.deepEqual(detail?.Layers.map((l) => l.Digest), sk.Layers);
    assert.equal(detail?.ManifestType, 'application/vnd.docker.distribution.manifest.v2+json');

    // Pushed back by berth, the Docker manifest keeps its bytes and digest.
    const back = join(dir, 'back.digest');
    await berthOk('--root', other, '--quiet', 'push', '--digestfile', back, `${reg.host}/from-skopeo:v2`, `${reg.host}/again:v2`);
    assert.equal(readFileSync(back, 'utf8'), sk.Digest);
  });

  test('skopeo and umoci read the oci: layouts and archives berth writes; berth reads skopeo layouts', async (t) => {
    const dir = tempDir(t);
    const root = join(dir, 'root');
    await busyboxImage(dir, root, 'busybox:v1');
    const layout = join(dir, 'layout');
    await berthOk('--root', root, '--quiet', 'image', 'copy', 'berth:busybox:v1', `oci:${layout}:v1`);
    const [img] = JSON.parse((await berthOk('--root', root, 'images', '--json')).stdout) as { ManifestDigest: string }[];
    const sk = JSON.parse(await tool('skopeo', 'inspect', `oci:${layout}:v1`)) as { Digest: string };
    assert.equal(sk.Digest, img?.ManifestDigest);
    assert.match(await tool('umoci', 'ls', '--layout', layout), /^v1$/m);
    const bundle = join(dir, 'umoci-bundle');
    await tool('umoci', 'unpack', '--image', `${layout}:v1`, bundle);
    assert.ok(existsSync(join(bundle, 'rootfs', 'bin', 'busybox')));
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; env: string[] } };
    assert.deepEqual(spec.process.args, ['sh']);

    const ociArchive = join(dir, 'bb.oci.tar');
    await berthOk('--root', root, '--quiet', 'image', 'copy', 'berth:busybox:v1', `oci-archive:${ociArchive}:v1`);
    assert.equal((JSON.parse(await tool('skopeo', 'inspect', `oci-archive:${ociArchive}:v1`)) as { Digest: string }).Digest, img?.ManifestDigest);
    const dockerArchive = join(dir, 'bb.docker.tar');
    await berthOk('--root', root, '--quiet', 'save', '-o', dockerArchive, 'busybox:v1');
    const fromDockerArchive = JSON.parse(await tool('skopeo', 'inspect', `docker-archive:${dockerArchive}`)) as { RepoTags: string[]; Layers: string[] };
    assert.equal(fromDockerArchive.Layers.length, 1);

    // skopeo's own layout (written from berth's docker-archive) back into berth.
    const skLayout = join(dir, 'sk-layout');
    await tool('skopeo', 'copy', `docker-archive:${dockerArchive}`, `oci:${skLayout}:latest`);
    const skDigest = (JSON.parse(await tool('skopeo', 'inspect', `oci:${skLayout}:latest`)) as { Digest: string }).Digest;
    const other = join(dir, 'other');
    await berthOk('--root', other, '--quiet', 'image', 'copy', `oci:${skLayout}:latest`, 'berth:via-skopeo:v1');
    const [back] = JSON.parse((await berthOk('--root', other, 'images', '--json')).stdout) as { ManifestDigest: string; Id: string }[];
    assert.equal(back?.ManifestDigest, skDigest);
  });
});
