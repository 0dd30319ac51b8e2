import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { berth, berthOk } from '../../../helpers/registry-cli.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

test('global options stand anywhere; commands are reached by group or by docker\'s shortcut', async (t) => {
  const dir = tempDir(t);
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'f'), 'x');
  const root = join(dir, 'root');
  await berthOk('import', tree, 'one:1', '--root', root);
  await berthOk('image', '--root', root, 'tag', 'one:1', 'two:2');
  for (const argv of [['images'], ['image', 'ls'], ['image', 'list']]) {
    const r = await berthOk(...argv, '--root', root, '--json');
    assert.deepEqual((JSON.parse(r.stdout) as { RepoTags: string[] }[]).map((i) => i.RepoTags), [['localhost/one:1', 'localhost/two:2']], argv.join(' '));
  }
  await berthOk('--root', root, 'image', 'rm', 'two:2');
  assert.match((await berthOk('--root', root, 'images', '-q', 'one')).stdout, /^[0-9a-f]{12}\n$/);
});

test('help at every level; the groups to come say they have no commands yet', async () => {
  const top = await berthOk('--help');
  assert.match(top.stdout, /^Usage: berth \[OPTIONS\] COMMAND\n/);
  assert.match(top.stdout, /\n {2}images +List images in the store\n/);
  for (const [group, verbs] of [['container', ['run', 'ps', 'logs', 'exec', 'inspect', 'prune']], ['volume', ['create', 'ls', 'rm', 'prune']], ['network', ['create', 'ls', 'inspect', 'rm', 'connect', 'disconnect', 'prune']], ['system', ['info', 'df', 'service', 'stop']], ['fn', ['new', 'build', 'push', 'deploy', 'up', 'invoke', 'list', 'describe', 'remove', 'logs', 'secret', 'login']]] as const) {
    const help = (await berthOk(group, '--help')).stdout;
    for (const verb of verbs) assert.match(help, new RegExp(`\\n {2}${verb} `), `${group} ${verb}`);
  }
  const system = await berthOk('system', '--help');
  for (const verb of ['info', 'service', 'stop']) assert.match(system.stdout, new RegExp(`\\n {2}${verb} `), verb);
  const image = await berthOk('image', '--help');
  for (const verb of ['pull', 'push', 'ls', 'tag', 'rm', 'inspect', 'save', 'load', 'import', 'copy', 'unpack', 'mount', 'unmount', 'prune', 'build']) {
    assert.match(image.stdout, new RegExp(`\\n {2}${verb} `), verb);
  }
  const pull = await berthOk('pull', '--help');
  assert.match(pull.stdout, /^Usage: berth pull \[OPTIONS\] IMAGE\n/);
  assert.match(pull.stdout, /Aliases:\n {2}berth image pull, berth pull\n/);
  assert.match(pull.stdout, /--platform OS\/ARCH\[\/VARIANT\]/);
  assert.equal((await berthOk('help', 'image', 'rm')).stdout.split('\n')[0], 'Usage: berth image rm [OPTIONS] IMAGE...');
});

test('import, images, tag, inspect, save/load, rmi and prune through the command line', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc', 'motd'), 'hi\n');

  const imported = await berthOk('--root', root, 'import', '--change', 'CMD ["cat", "/etc/motd"]', tree, 'motd:1');
  const id = imported.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);

  const list = await berthOk('--root', root, 'images');
  assert.match(list.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
  assert.match(list.stdout, new RegExp(`localhost/motd\\s+1\\s+${id.slice(0, 12)}`));

  await berthOk('--root', root, 'tag', 'motd:1', 'motd:latest', '127.0.0.1:5000/team/motd:v1');
  const json = JSON.parse((await berthOk('--root', root, 'images', '--json')).stdout) as { Id: string; RepoTags: string[] }[];
  assert.deepEqual(json.map((i) => [i.Id, i.RepoTags]), [[id, ['127.0.0.1:5000/team/motd:v1', 'localhost/motd:1', 'localhost/motd:latest']]]);

  const inspected = JSON.parse((await berthOk('--root', root, 'image', 'inspect', 'motd')).stdout) as { Config: { Cmd: string[] }; RootFS: { Layers: string[] } }[];
  assert.deepEqual(inspected[0]?.Config.Cmd, ['cat', '/etc/motd']);
  assert.equal(inspected[0]?.RootFS.Layers.length, 1);

  for (const format of ['docker-archive', 'oci-archive']) {
    const file = join(dir, `motd.${format}.tar`);
    await berthOk('--root', root, '--quiet', 'save', '--format', format, '-o', file, 'motd:1');
    const other = join(dir, `load-${format}`);
    const loaded = await berthOk('--root', other, '--quiet', 'load', '-i', file);
    assert.equal(loaded.stdout, 'Loaded image: localhost/motd:1\n', format);
    assert.equal((JSON.parse((await berthOk('--root', other, 'images', '--json')).stdout) as { Id: string }[])[0]?.Id, id, format);
  }

  const untag = await berthOk('--root', root, 'rmi', 'motd:latest');
  assert.equal(untag.stdout, 'Untagged: localhost/motd:latest\n');
  const refused = await berth('--root', root, 'rmi', id.slice(0, 12));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /has 2 names/);
  const removed = await berthOk('--root', root, 'rmi', '--force', id.slice(0, 12));
  assert.match(removed.stdout, /Deleted: [0-9a-f]{64}\n$/);
  assert.equal((await berthOk('--root', root, 'images', '--quiet')).stdout, '');
  const pruned = await berthOk('--root', root, 'image', 'prune');
  assert.equal(pruned.stdout, '', 'rmi already removed the blobs only that image used');
});

test('bad input exits 2 with a message naming the flag or argument', async (t) => {
  const root = tempDir(t);
  const r1 = await berth('--root', root, 'pull');
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /expected 1 argument, got 0\nusage: berth pull/);
  const r2 = await berth('--root', root, 'images', '--bogus');
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--bogus/);
  const r3 = await berth('--root', root, 'frobnicate');
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /"frobnicate" is not a berth command/);
  const r4 = await berth('--root', root, 'pull', 'busybox');
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /no default registry configured/);
  const r5 = await berth('--root', root, 'image', 'inspect', 'nothing:here');
  assert.equal(r5.code, 1);
  assert.match(r5.stderr, /image "nothing:here": not in the store/);
  const r6 = await berth('--root', root, '--tls-verify=maybe', 'images');
  assert.equal(r6.code, 2);
  assert.match(r6.stderr, /--tls-verify: want true or false/);
});

test('--tls-verify=true insists on https even for a loopback registry', async (t) => {
  const { createServer } = await import('node:http');
  const server = createServer((_req, res) => res.writeHead(200).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  const host = `127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  const refused = await berth('--tls-verify=true', 'image', 'inspect', '--remote', `${host}/x:v1`);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`registry ${host}:`));
});
