/**
 * The daemon's service in-process, as the engine will use it: routes and
 * info counts registered through onStart, a hijacked round trip through
 * them with berth's client, and a stop that finishes the request in flight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../../src/api/log.ts';
import { hijack, json, MULTIPLEXED_STREAM } from '../../../src/api/reply.ts';
import { startService } from '../../../src/api/service.ts';
import { encodeFrame, FrameDecoder, StreamType } from '../../../src/engine/monitor/frames.ts';
import { isBerthError } from '../../../src/errors.ts';
import { ApiClient } from '../../../src/api/client.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { daemonDirs } from '../../helpers/berthd.ts';

test('routes and info counts from onStart; a hijack echo round trip; stop finishes the request in flight', async (t) => {
  const paths = daemonDirs(t);
  const lines: string[] = [];
  let release: () => void = () => {};
  const slowStarted = Promise.withResolvers<void>();
  const service = await startService({
    paths,
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    onStart(server, svc) {
      svc.hooks.counts = () => ({ Containers: 3, ContainersRunning: 2, ContainersPaused: 0, ContainersStopped: 1, Images: 5 });
      server.router.post(
        '/containers/{id}/attach',
        () =>
          hijack(MULTIPLEXED_STREAM, async (conn) => {
            for await (const chunk of conn as AsyncIterable<Buffer>) conn.write(encodeFrame(StreamType.stdout, chunk));
          }),
        { hijack: true },
      );
      server.router.post('/slow', async () => {
        slowStarted.resolve();
        await new Promise<void>((resolve) => (release = resolve));
        return json({ finished: true });
      });
    },
  });
  onCleanup(t, () => service.stop());
  const client = new ApiClient(paths.socket);

  const info = (await client.json('GET', '/v1.43/info')) as Record<string, unknown>;
  assert.deepEqual([info['Containers'], info['ContainersRunning'], info['ContainersStopped'], info['Images']], [3, 2, 1, 5]);

  const h = await client.hijack('POST', '/v1.43/containers/web/attach', { query: { stream: true, stdin: true, stdout: true } });
  const decoder = new FrameDecoder();
  let echoed = '';
  h.socket.on('data', (c: Buffer) => (echoed += decoder.push(c).map((f) => f.payload.toString()).join('')));
  const ended = new Promise((resolve) => h.socket.once('end', resolve));
  h.socket.end('typed into the container');
  await ended;
  assert.equal(echoed, 'typed into the container');

  const slow = client.json('POST', '/slow');
  await slowStarted.promise;
  const stopping = service.stop();
  // The socket is closed to newcomers at once; the request in flight still gets its answer.
  await assert.rejects(client.json('GET', '/_ping'), (err) => isBerthError(err, 'daemon_unreachable'));
  release();
  assert.deepEqual(await slow, { finished: true });
  await stopping;
  await service.stopped;
  const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(msgs.includes('berthd started') && msgs.at(-1) === 'berthd stopped', msgs.join(', '));
});
