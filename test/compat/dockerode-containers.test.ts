/**
 * dockerode (the Docker SDK most Node.js tools use, testcontainers
 * included) against a private berthd, as root: a container's life
 * (create, start, wait, logs, remove), exec with its output demultiplexed
 * by dockerode's own modem.demuxStream, exec inspect, attach with input,
 * and the errors it turns into exceptions (404 for an image berthd does
 * not have, 400 naming a field berth does not support).
 */
import assert from 'node:assert/strict';
import { PassThrough, type Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { startDaemon, until, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let docker: Docker;
before(async () => {
  d = await startDaemon();
  docker = new Docker({ socketPath: d.socket });
});
after(async () => {
  await d?.stop();
});

/** dockerode's demultiplexer over a multiplexed stream, collecting each side until the stream ends. */
function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (b: Buffer) => (stdout += b.toString()));
  err.on('data', (b: Buffer) => (stderr += b.toString()));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve({ stdout, stderr }));
    stream.on('close', () => resolve({ stdout, stderr }));
    stream.on('error', reject);
  });
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

test('create, start, wait, logs and remove a container', async () => {
  const c = await docker.createContainer({
    Image: 'busybox',
    name: 'sdk-life',
    Cmd: ['sh', '-c', 'echo "$GREETING out"; echo err-line >&2; exit 3'],
    Env: ['GREETING=hello'],
    Labels: { via: 'dockerode' },
    HostConfig: { NetworkMode: 'none', Memory: 64 * 1024 * 1024 },
  });
  const info = await c.inspect();
  assert.equal(info.Name, '/sdk-life');
  assert.equal(info.Config.Labels['via'], 'dockerode');
  assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(info.State.Status, 'created');
  const waiting = c.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
  await c.start();
  assert.equal((await waiting).StatusCode, 3);
  const logs = await c.logs({ follow: true, stdout: true, stderr: true });
  assert.deepEqual(await demux(logs), { stdout: 'hello out\n', stderr: 'err-line\n' });
  await c.remove();
  await assert.rejects(c.inspect(), (err: unknown) => statusOf(err) === 404);
});

test('Entrypoint [] clears the image\'s entrypoint and keeps its Cmd, as dockerd merges them', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Entrypoint: [], HostConfig: { NetworkMode: 'none' } });
  try {
    const info = await c.inspect();
    assert.equal(info.Path, 'sh');
    assert.deepEqual(info.Args, []);
  } finally {
    await c.remove({ force: true });
  }
});

test('exec with a demultiplexed stream, its exit code and inspect in Docker\'s shape', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none' } });
  try {
    await c.start();
    const exec = await c.exec({ Cmd: ['sh', '-c', 'echo from-exec; echo exec-err >&2; exit 4'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    assert.deepEqual(await demux(stream), { stdout: 'from-exec\n', stderr: 'exec-err\n' });
    const inspected = await exec.inspect();
    assert.equal(inspected.ExitCode, 4);
    assert.equal(inspected.Running, false);
    assert.equal(inspected.ContainerID, c.id);
    assert.equal(inspected.ProcessConfig.entrypoint, 'sh');
    assert.deepEqual(inspected.ProcessConfig.arguments, ['-c', 'echo from-exec; echo exec-err >&2; exit 4']);

    // With input: stdin goes to the process; its end closes the process's stdin.
    const cat = await c.exec({ Cmd: ['sh', '-c', 'tr a-z A-Z'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const io = await cat.start({ hijack: true, stdin: true });
    const collected = demux(io);
    io.end('shout this\n');
    assert.equal((await collected).stdout, 'SHOUT THIS\n');
  } finally {
    await c.remove({ force: true });
  }
});

test('attach before start with stdin: input in, output out, demultiplexed', async () => {
  const c = await docker.createContainer({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'read line; echo "got:$line"; echo done >&2'],
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    const collected = demux(stream);
    await c.start();
    stream.write('typed\n');
    const { stdout, stderr } = await collected;
    assert.equal(stdout, 'got:typed\n');
    assert.equal(stderr, 'done\n');
    await until('the container to exit', async () => ((await c.inspect()).State.Status === 'exited' ? true : undefined));
  } finally {
    await c.remove({ force: true });
  }
});

test('attach with logs: the output so far first, then (with stream) what follows; without stream only the past', async () => {
  const c = await docker.createContainer({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'echo before; echo before-err >&2; while [ ! -f /go ]; do sleep 0.05; done; echo after'],
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await c.start();
    await until('the first lines', async () => ((await c.logs({ stdout: true })).toString().includes('before') ? true : undefined));
    const past = await c.attach({ logs: true, stream: false, stdout: true, stderr: true, hijack: true });
    assert.deepEqual(await demux(past), { stdout: 'before\n', stderr: 'before-err\n' });
    const live = await c.attach({ logs: true, stream: true, stdout: true, stderr: false, hijack: true });
    const collected = demux(live);
    const exec = await c.exec({ Cmd: ['touch', '/go'] });
    await exec.start({ Detach: true });
    assert.deepEqual(await collected, { stdout: 'before\nafter\n', stderr: '' });
  } finally {
    await c.remove({ force: true });
  }
});

test('an image berthd lacks is a 404 in dockerd\'s words; an unsupported field a 400 naming it', async () => {
  await assert.rejects(docker.createContainer({ Image: 'not-here', HostConfig: { NetworkMode: 'none' } }), (err: unknown) => {
    assert.equal(statusOf(err), 404);
    assert.match(String(err), /No such image: not-here:latest/);
    return true;
  });
  await assert.rejects(docker.createContainer({ Image: 'busybox', HostConfig: { NetworkMode: 'none', Privileged: true } }), (err: unknown) => {
    assert.equal(statusOf(err), 400);
    assert.match(String(err), /HostConfig.Privileged is not supported/);
    return true;
  });
  assert.deepEqual(await docker.listPlugins(), []);
  await assert.rejects(docker.listServices(), (err: unknown) => statusOf(err) === 503 && /not a swarm manager/.test(String(err)));
});
