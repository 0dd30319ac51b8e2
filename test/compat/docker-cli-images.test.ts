/**
 * The real docker CLI's image commands against berthd (DOCKER_HOST=unix://
 * its socket), with a loopback registry (Debian's docker-registry behind
 * htpasswd, plain HTTP as dockerd treats 127.0.0.1): login (a wrong
 * password, then the right one), build of a context with COPY and RUN,
 * images, image inspect, history, tag, push, search (the registry's
 * catalog), rmi (refused while a container uses the image), pull,
 * save | load, image prune. Each step is
 * checked where it lands: berth's store (`berth images --json`), the
 * registry's manifest, the bytes of files inside the built image (read by a
 * container berth runs). Skipped, saying so, without a docker CLI on PATH.
 * As root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { show, startDaemon, type CliResult, type TestDaemon } from '../helpers/daemon.ts';
import { docker as dockerWith, NO_DOCKER } from '../helpers/docker-cli.ts';
import { startRegistry, type RegistryServer } from '../helpers/registry.ts';

const skip = NO_DOCKER;

const USER = 'tester';
const PASSWORD = 'right-password';

let d: TestDaemon;
let reg: RegistryServer;
before(async () => {
  if (NO_DOCKER !== false) return;
  reg = await startRegistry({ htpasswd: { users: { [USER]: PASSWORD } } });
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
  await reg?.stop();
});

function docker(args: string[], input?: string): Promise<CliResult> {
  // The classic builder's protocol, as berthd serves no BuildKit; credentials from `docker login` land in the daemon's scratch.
  return dockerWith(d, args, { timeoutMs: 120_000, ...(input === undefined ? {} : { input }) });
}

async function dockerOk(args: string[], input?: string): Promise<string> {
  const r = await docker(args, input);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${show(r)}`);
  return r.stdout;
}

interface StoredImage {
  Id: string;
  Names: string[];
  RepoDigests: string[];
}

async function stored(): Promise<StoredImage[]> {
  return JSON.parse(await d.ok(['images', '--json'])) as StoredImage[];
}

async function storedByName(name: string): Promise<StoredImage | undefined> {
  return (await stored()).find((i) => i.Names.includes(name));
}

async function registryManifest(repo: string, tag: string): Promise<{ status: number; digest: string | null }> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  await res.body?.cancel();
  return { status: res.status, digest: res.headers.get('docker-content-digest') };
}

test('docker login, build, images, inspect, history, tag, push, search, rmi, pull, save | load and image prune work against berthd', { skip }, async () => {
  // login: a wrong password is refused by the registry and nothing is stored; the right one is.
  const bad = await docker(['login', reg.host, '-u', USER, '--password-stdin'], 'wrong-password\n');
  assert.notEqual(bad.code, 0, show(bad));
  assert.match(bad.stderr, /unauthorized|401|authentication/i, show(bad));
  const good = await docker(['login', reg.host, '-u', USER, '--password-stdin'], `${PASSWORD}\n`);
  assert.equal(good.code, 0, show(good));
  assert.match(good.stdout, /Login Succeeded/);
  assert.match(readFileSync(join(d.scratch, 'config.json'), 'utf8'), new RegExp(reg.host.replace(/\./g, '\\.')));

  // build: a context with COPY and RUN, FROM the busybox the daemon's store holds.
  const ctx = join(d.scratch, 'context');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'hello.txt'), 'hello from the context\n');
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo made-by-run > /run.txt && cat /hello.txt\n');
  const build = await docker(['build', '-t', 'app:v1', ctx]);
  assert.equal(build.code, 0, show(build));
  assert.match(build.stdout, /Step 1\/3 : FROM busybox/);
  assert.match(build.stdout, /Step 3\/3 : RUN echo made-by-run/);
  assert.match(build.stdout, /hello from the context/, 'the RUN output is streamed');
  const built = /Successfully built ([0-9a-f]{12})/.exec(build.stdout)?.[1];
  assert.ok(built !== undefined, show(build));
  assert.match(build.stdout, /Successfully tagged app:v1/);
  const app = await storedByName('localhost/app:v1');
  assert.ok(app !== undefined, 'the built image is in berth\'s store');
  assert.equal(app.Id.slice(0, 12), built);
  assert.equal(await d.ok(['run', '--rm', 'app:v1', 'cat', '/hello.txt', '/run.txt']), 'hello from the context\nmade-by-run\n');

  // A failing RUN fails the build in the stream; an option the builder lacks is refused by name.
  const failing = join(d.scratch, 'failing');
  mkdirSync(failing);
  writeFileSync(join(failing, 'Dockerfile'), 'FROM busybox\nRUN echo about-to-fail; exit 3\n');
  const before = (await stored()).length;
  const failed = await docker(['build', '-t', 'broken:v1', failing]);
  assert.notEqual(failed.code, 0, show(failed));
  assert.match(failed.stdout, /about-to-fail/);
  assert.match(failed.stderr, /RUN/, show(failed));
  assert.equal((await stored()).length, before, 'a failed build records no image');
  const refused = await docker(['build', '--memory', '64m', '-t', 'broken:v1', ctx]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /query parameter "memory"="67108864" is not supported/, show(refused));

  // images, inspect, history
  const images = await dockerOk(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.match(images, new RegExp(`^app:v1 sha256:${app.Id}$`, 'm'));
  assert.match(images, /^busybox:latest sha256:[0-9a-f]{64}$/m);
  const inspect = JSON.parse(await dockerOk(['image', 'inspect', 'app:v1'])) as Record<string, unknown>[];
  assert.equal(inspect.length, 1);
  const ii = inspect[0]!;
  assert.equal(ii['Id'], `sha256:${app.Id}`);
  assert.deepEqual(ii['RepoTags'], ['app:v1']);
  assert.equal(ii['Os'], 'linux');
  assert.equal(typeof ii['Size'], 'number');
  assert.equal((ii['RootFS'] as { Layers: string[] }).Layers.length >= 2, true);
  const history = await dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'app:v1']);
  assert.match(history.split('\n')[0]!, /echo made-by-run/, 'the newest step comes first');
  assert.match(history, /COPY/);
  const missing = await docker(['image', 'inspect', 'no-such-image']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no-such-image/);

  // tag and push (with the credentials of `docker login`)
  const remote = `${reg.host}/team/app`;
  await dockerOk(['tag', 'app:v1', `${remote}:v1`]);
  assert.ok((await storedByName(`${remote}:v1`))?.Id === app.Id, 'the tag names the same image in the store');
  const push = await docker(['push', `${remote}:v1`]);
  assert.equal(push.code, 0, show(push));
  assert.match(push.stdout, new RegExp(`The push refers to repository \\[${remote.replace(/\./g, '\\.')}\\]`));
  const pushed = /v1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout)?.[1];
  assert.ok(pushed !== undefined, show(push));
  const manifest = await registryManifest('team/app', 'v1');
  assert.equal(manifest.status, 200);
  assert.equal(manifest.digest, pushed, 'the registry holds the manifest docker reported');

  // search: the registry's catalog, with the credentials of `docker login`
  const search = await dockerOk(['search', '--format', '{{.Name}} {{.StarCount}}', `${reg.host}/team`]);
  assert.equal(search, `${remote} 0\n`);
  const nowhere = await docker(['search', 'app']);
  assert.notEqual(nowhere.code, 0);
  assert.match(nowhere.stderr, /no registry to search/, show(nowhere));

  // rmi: refused while a container uses the image, then both names removed and the image gone
  const user = (await d.ok(['create', '--name', 'uses-app', 'app:v1', 'true'])).trim();
  await dockerOk(['rmi', `${remote}:v1`]);
  const inUse = await docker(['rmi', 'app:v1']);
  assert.notEqual(inUse.code, 0, show(inUse));
  assert.match(inUse.stderr, /conflict.*container .*is using its referenced image/, show(inUse));
  assert.ok(await storedByName('localhost/app:v1'), 'a refused rmi removes nothing');
  await d.ok(['rm', user]);

  // save | load: the archive round trip gives the same image back
  const archive = join(d.scratch, 'app.tar');
  await dockerOk(['save', '-o', archive, 'app:v1']);
  const listing = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' });
  assert.match(listing, /^manifest\.json$/m);
  const rmi = await dockerOk(['rmi', 'app:v1']);
  assert.match(rmi, /Untagged: app:v1/);
  assert.match(rmi, new RegExp(`Deleted: sha256:${app.Id}`));
  assert.equal(await storedByName('localhost/app:v1'), undefined);
  const load = await dockerOk(['load', '-i', archive]);
  assert.match(load, /Loaded image: app:v1/);
  assert.equal((await storedByName('localhost/app:v1'))?.Id, app.Id);
  assert.equal(await d.ok(['run', '--rm', 'app:v1', 'cat', '/run.txt']), 'made-by-run\n');

  // pull: removed from the store, pulled back from the registry, layer by layer
  await dockerOk(['rmi', 'app:v1']);
  assert.equal((await stored()).some((i) => i.Id === app.Id), false);
  const pull = await docker(['pull', `${remote}:v1`]);
  assert.equal(pull.code, 0, show(pull));
  assert.match(pull.stdout, /v1: Pulling from team\/app/);
  assert.match(pull.stdout, /Pull complete/);
  assert.match(pull.stdout, new RegExp(`Digest: ${pushed}`));
  assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${remote.replace(/\./g, '\\.')}:v1`));
  const pulledBack = await storedByName(`${remote}:v1`);
  assert.equal(pulledBack?.Id, app.Id);
  assert.ok(pulledBack.RepoDigests.includes(`${remote}@${pushed}`));
  const again = await dockerOk(['pull', `${remote}:v1`]);
  assert.match(again, /Status: Image is up to date/);
  const unknown = await docker(['pull', `${remote}:no-such-tag`]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no-such-tag|not found|unknown/i, show(unknown));

  // image prune: a rebuild moves the tag, the old image is dangling and prune removes it
  writeFileSync(join(ctx, 'hello.txt'), 'changed\n');
  await dockerOk(['build', '-q', '-t', `${remote}:v1`, ctx]);
  const dangling = await dockerOk(['images', '-q', '--no-trunc', '--filter', 'dangling=true']);
  assert.equal(dangling.trim(), `sha256:${app.Id}`);
  const prune = await dockerOk(['image', 'prune', '-f']);
  assert.match(prune, new RegExp(`deleted: sha256:${app.Id}`, 'i'));
  assert.equal((await stored()).some((i) => i.Id === app.Id), false);
});
